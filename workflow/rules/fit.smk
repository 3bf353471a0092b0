rule fit:
    """One Deep Image Prior fit of one (experiment, image, seed)."""
    input:
        "data/inputs/{experiment}/{image}/seed{seed}",
    output:
        directory("results/fits/{experiment}/{image}/seed{seed}"),
    log:
        "logs/fit/{experiment}/{image}/seed{seed}.log",
    benchmark:
        "benchmarks/fit/{experiment}/{image}/seed{seed}.tsv"
    params:
        args=lambda w: experiments.fit_args(config, fit_of(w)),
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda w: experiments.mem_mb(config, fit_of(w)),
        runtime=lambda w: experiments.runtime_minutes(config, fit_of(w)),
    conda:
        DIP_ENV
    shell:
        "OMP_NUM_THREADS={threads} dip fit {params.args:q} --out {output} > {log} 2>&1"
