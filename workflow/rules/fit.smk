rule fit:
    """One Deep Image Prior fit of one (experiment, variant, image, seed)."""
    input:
        lambda w: fit_job(w).inputs.dir,
    output:
        directory(mode_path(paths.FIT)),
    log:
        log_path("fit", "{experiment}/{variant}/{image}/seed{seed}"),
    benchmark:
        benchmark_path("fit", "{experiment}/{variant}/{image}/seed{seed}")
    conda:
        DIP_ENV
    threads: resources.threads(config)
    resources:
        gpu=resources.gpus(config),
        mem_mb=lambda w: resources.mem_mb(fit_job(w)),
        runtime=lambda w: resources.runtime_minutes(config, fit_job(w)),
    params:
        args=lambda w: PLAN.fit_args(fit_job(w)),
    # `exec`: the fit replaces the job's shell, so a scheduler's TERM reaches it alone and the
    # Snakemake process that runs the job waits while it saves its state (docs/cluster.md).
    shell:
        "OMP_NUM_THREADS={threads} exec dip fit {params.args:q} --out {output:q} > {log:q} 2>&1"
