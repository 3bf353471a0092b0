# dip-repro: Deep Image Prior (Ulyanov, Vedaldi, Lempitsky, CVPR 2018) end to end.
# Wiring only: every rule is a thin call of the `dip` CLI (workflow/dip/); what runs and where
# it is written comes from the planning layer (dip.pipeline), which never imports torch.
from snakemake.utils import min_version, validate

from dip import pipeline

min_version("9.0")


configfile: "config.yaml"


# Types first, without defaults: filling defaults into a malformed config can crash inside
# the validator instead of naming the bad key.
validate(config, "workflow/schemas/config.schema.yaml", set_default=False)
validate(config, "workflow/schemas/config.schema.yaml")
pipeline.with_registry(config, workflow.basedir)


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
    paper_table,
    figure,
    study,
    section,
    curves,
    snapshots,
    report,
    paper_report,
    build_partial_report,
    report_partial,


onstart:
    if workflow.local_exec:
        TO_FIT = [
            str(j.output[0])
            for j in workflow.dag.needrun_jobs()
            if j.rule.name == "fit"
        ]
        if TO_FIT:
            shell(
                "dip estimate --config-json {ESTIMATE_CONFIG:q} --fits {TO_FIT:q}"
            )


rule all:
    """The paper: the report of the experiments of target `all` (Table 1 and Figure 7)."""
    input:
        target_report("all"),
        paper_report_files(),


# Every other target of the config (`studies`, `sr`, ...; and `everything`, every experiment):
# `snakemake NAME` builds the report of its experiments.
for _target in PLAN.targets:
    if _target == "all":
        continue

    rule:
        name:
            _target
        input:
            target_report(_target),
        localrule: True


rule report_partial:
    """After a run with --keep-going in which some fits failed: the report of target `all`
    from the fits that finished, the missing ones named (any target: ask for
    reports/{mode}/{target}/partial/report.html)."""
    input:
        paths.PARTIAL_HTML.format(mode=MODE, target="all"),
