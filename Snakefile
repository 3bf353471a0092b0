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


# On a cluster only the fits are worth a job of their own: the light rules (seconds each) run
# in the Snakemake process itself, which also keeps downloads on the login node.
localrules:
    all,
    download,
    fetch,
    prepare,
    evaluate,
    run_config,
    architecture,
    table1,
    figure7,
    curves,
    snapshots,
    report,


onstart:
    if workflow.local_exec:
        shell("dip estimate --config-json {ESTIMATE_CONFIG:q}")


rule all:
    input:
        rules.report.output,
