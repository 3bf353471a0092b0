# Data: verified downloads of the registry files, then one fit's inputs per
# (experiment, image, seed). Every decision is made in the dip package (dip.data, dip.plan).

import re

from dip import data as _data, plan as _plan

_data.export_mirror(config)


rule download:
    input:
        expand("data/raw/{path}", path=_data.required_files(config)),


rule fetch:
    wildcard_constraints:
        path="|".join(re.escape(p) for p in _data.registry(config)),
    output:
        "data/raw/{path}",
    params:
        url=lambda wc: _data.fetch_params(config, wc.path)["url"],
        sha256=lambda wc: _data.fetch_params(config, wc.path)["sha256"],
    log:
        "logs/fetch/{path}.log",
    benchmark:
        "benchmarks/fetch/{path}.tsv"
    shell:
        "dip download --path {wildcards.path:q} --url {params.url:q} --sha256 {params.sha256}"
        " --out {output:q} > {log:q} 2>&1"


rule prepare:
    wildcard_constraints:
        experiment="[^/]+",
        image="[^/]+",
        seed=r"\d+",
    input:
        unpack(lambda wc: _plan.prepare_inputs(config, wc.experiment, wc.image)),
    output:
        directory("data/inputs/{experiment}/{image}/seed{seed}"),
    params:
        args=lambda wc: _plan.prepare_args(config, wc.experiment, wc.image, int(wc.seed)),
    log:
        "logs/prepare/{experiment}/{image}/seed{seed}.log",
    benchmark:
        "benchmarks/prepare/{experiment}/{image}/seed{seed}.tsv"
    shell:
        "dip prepare {params.args} --out {output:q} > {log:q} 2>&1"
