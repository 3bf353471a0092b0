# Data: verified downloads of the registry files, then one fit's inputs per
# (experiment, image, seed). Every decision is made in the dip package (dip.data, dip.plan).
# Expects DIP_ENV (the conda environment file) from common.smk.

import re

from dip import data as _data, plan as _plan

_data.export_mirror(config)


rule download:
    """Every raw file the configured experiments read, verified (a target, no command)."""
    input:
        expand("data/raw/{path}", path=_data.required_files(config)),


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
    """One fit's gt.png, mask.png, observed.png and prep.json from the raw files."""
    input:
        unpack(lambda wc: _plan.prepare_inputs(config, wc.experiment, wc.image)),
    output:
        directory("data/inputs/{experiment}/{image}/seed{seed}"),
    log:
        "logs/prepare/{experiment}/{image}/seed{seed}.log",
    benchmark:
        "benchmarks/prepare/{experiment}/{image}/seed{seed}.tsv"
    wildcard_constraints:
        experiment=r"[A-Za-z0-9_]+",
        image=r"[A-Za-z0-9_]+",
        seed=r"[0-9]+",
    conda:
        DIP_ENV
    params:
        args=lambda wc: _plan.prepare_args(
            config, wc.experiment, wc.image, int(wc.seed)
        ),
    shell:
        "dip prepare {params.args} --out {output:q} > {log:q} 2>&1"
