# dip-repro: Deep Image Prior (Ulyanov, Vedaldi, Lempitsky, CVPR 2018) end to end.
# Wiring only: every rule is a thin call of the `dip` CLI (workflow/dip/).
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        rules.report.output,
