# Data: verified downloads of the registry files, then one fit's inputs per
# (experiment, image, seed). Every decision is made in the dip package (dip.data.registry, dip.pipeline).
# Expects PLAN, P, LOG, BENCH and DIP_ENV from common.smk.

import re

from dip.data import registry as _data

_data.export_mirror(config)


rule download:
    """Every raw file the configured experiments read, verified (a target, no command)."""
    input:
        reports.raw_files(PLAN),


rule fetch:
    """One registry file: mirror first, then its pinned URL; sha256 checked."""
    output:
        "data/raw/{path}",
    log:
        "logs/fetch/{path}.log",
    benchmark:
        "benchmarks/fetch/{path}.tsv"
    wildcard_constraints:
        path="|".join(re.escape(p) for p in _data.registry(config)),
    conda:
        DIP_ENV
    params:
        url=lambda wc: _data.fetch_params(config, wc.path)["url"],
        sha256=lambda wc: _data.fetch_params(config, wc.path)["sha256"],
    shell:
        "dip download --path {wildcards.path:q} --url {params.url:q} --sha256 {params.sha256}"
        " --out {output:q} > {log:q} 2>&1"


rule prepare:
    """One fit's gt.png, mask.png, observed.png and prep.json from the raw (or local) files."""
    input:
        unpack(lambda w: PLAN.prep_job(w.experiment, w.image, w.seed).sources),
    output:
        directory(mode_path(paths.INPUTS)),
    log:
        log_path("prepare", "{experiment}/{image}/seed{seed}"),
    benchmark:
        benchmark_path("prepare", "{experiment}/{image}/seed{seed}")
    conda:
        DIP_ENV
    params:
        args=lambda w: PLAN.prepare_args(w.experiment, w.image, w.seed),
    shell:
        "dip prepare {params.args:q} --out {output:q} > {log:q} 2>&1"
