rule evaluate:
    """PSNR / SSIM of one fit on the image's original extent (float and 8-bit; final and EMA)."""
    input:
        fit=mode_path(paths.FIT),
        inputs=lambda w: fit_job(w).inputs.dir,
    output:
        mode_path(paths.METRICS),
    log:
        log_path("evaluate", "{experiment}/{variant}/{image}/seed{seed}"),
    benchmark:
        benchmark_path("evaluate", "{experiment}/{variant}/{image}/seed{seed}")
    conda:
        DIP_ENV
    shell:
        "dip evaluate --fit {input.fit:q} --gt {input.inputs:q}/gt.png"
        " --prep {input.inputs:q}/prep.json --experiment {wildcards.experiment}"
        " --image {wildcards.image} --seed {wildcards.seed} --out {output:q} > {log:q} 2>&1"
