# Tables, figures and the report, all built from files on disk (no refitting).
from dip import report_plan


rule architecture:
    """The layer table of the Table-1 network, read by the report."""
    output:
        "reports/architecture.json",
    log:
        "logs/report/architecture.log",
    benchmark:
        "benchmarks/report/architecture.tsv"
    conda:
        DIP_ENV
    params:
        preset=config["experiments"]["table1"]["preset"],
    shell:
        "dip describe --preset {params.preset} --json > {output} 2> {log}"


rule run_config:
    """The configuration as run (mode applied), with data provenance and software versions."""
    output:
        "results/run_config.json",
    log:
        "logs/report/run_config.log",
    benchmark:
        "benchmarks/report/run_config.tsv"
    conda:
        DIP_ENV
    params:
        config=lambda w: json.dumps(config),
    shell:
        "dip run-config --config-json {params.config:q} --out {output} > {log} 2>&1"


rule table1:
    """Table 1: our PSNR over seeds beside the paper, Papyan et al. and the published outputs."""
    input:
        **report_plan.table1_inputs(config),
    output:
        csv=report(
            "reports/table1.csv",
            caption="../report/table1.rst",
            category="Table 1",
        ),
        md="reports/table1.md",
    log:
        "logs/report/table1.log",
    benchmark:
        "benchmarks/report/table1.tsv"
    conda:
        DIP_ENV
    params:
        args=report_plan.table1_args(config),
    shell:
        "dip table1 {params.args:q} --out-csv {output.csv} --out-md {output.md} > {log} 2>&1"


rule figure7:
    """Figure 7: text inpainting (top) and Barbara with half the pixels missing (bottom)."""
    input:
        report_plan.figure7_inputs(config),
    output:
        png=report(
            "reports/figure7.png",
            caption="../report/figure7.rst",
            category="Figure 7",
        ),
        pdf="reports/figure7.pdf",
    log:
        "logs/report/figure7.log",
    benchmark:
        "benchmarks/report/figure7.tsv"
    conda:
        DIP_ENV
    params:
        args=report_plan.figure7_args(config),
    shell:
        "dip figure7 {params.args:q} --out-png {output.png} --out-pdf {output.pdf} > {log} 2>&1"


rule curves:
    """PSNR against iterations per image: mean over seeds and the spread."""
    input:
        lambda w: report_plan.fit_dirs(config, w.experiment),
    output:
        report(
            "reports/curves_{experiment}.png",
            caption="../report/curves.rst",
            category="Curves",
        ),
    log:
        "logs/report/curves_{experiment}.log",
    benchmark:
        "benchmarks/report/curves_{experiment}.tsv"
    conda:
        DIP_ENV
    params:
        args=lambda w: report_plan.curves_args(config, w.experiment),
    shell:
        "dip curves {params.args:q} --out {output} > {log} 2>&1"


rule snapshots:
    """The output at chosen iterations, one row per image."""
    input:
        lambda w: report_plan.fit_dirs(config, w.experiment),
    output:
        report(
            "reports/snapshots_{experiment}.png",
            caption="../report/snapshots.rst",
            category="Snapshots",
        ),
    log:
        "logs/report/snapshots_{experiment}.log",
    benchmark:
        "benchmarks/report/snapshots_{experiment}.tsv"
    conda:
        DIP_ENV
    params:
        args=lambda w: report_plan.snapshots_args(config, w.experiment),
    shell:
        "dip snapshots {params.args:q} --out {output} > {log} 2>&1"


rule report:
    """The blog-style report (HTML and Markdown) from everything above."""
    input:
        run_config=rules.run_config.output,
        architecture=rules.architecture.output,
        table1=rules.table1.output,
        figure7=rules.figure7.output,
        curves=expand(
            "reports/curves_{experiment}.png", experiment=experiments.active(config)
        ),
        snapshots=expand(
            "reports/snapshots_{experiment}.png", experiment=experiments.active(config)
        ),
        metrics=[f.metrics for f in FITS],
    output:
        html=report(
            "reports/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        md="reports/report.md",
    log:
        "logs/report/report.log",
    benchmark:
        "benchmarks/report/report.tsv"
    conda:
        DIP_ENV
    shell:
        "dip report --run-config {input.run_config} --architecture {input.architecture}"
        " --reports reports --results results --out-html {output.html} --out-md {output.md}"
        " > {log} 2>&1"
