rule evaluate:
    """PSNR / SSIM of one fit on the image's original extent (float and 8-bit; final and EMA)."""
    input:
        fit="results/fits/{experiment}/{image}/seed{seed}",
        inputs="data/inputs/{experiment}/{image}/seed{seed}",
    output:
        "results/metrics/{experiment}/{image}/seed{seed}.json",
    log:
        "logs/evaluate/{experiment}/{image}/seed{seed}.log",
    benchmark:
        "benchmarks/evaluate/{experiment}/{image}/seed{seed}.tsv"
    conda:
        DIP_ENV
    shell:
        "dip evaluate --fit {input.fit} --gt {input.inputs}/gt.png --prep {input.inputs}/prep.json"
        " --experiment {wildcards.experiment} --image {wildcards.image} --seed {wildcards.seed}"
        " --out {output} > {log} 2>&1"
