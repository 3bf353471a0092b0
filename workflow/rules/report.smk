# Tables, figures, studies and the reports, all built from files on disk (no refitting). Which
# files each one reads, and its arguments, come from its report kind (dip.pipeline.kinds).


rule run_config:
    """The configuration as run (mode applied), with data provenance and software versions."""
    output:
        mode_path(paths.RUN_CONFIG),
    log:
        log_path("report", "run_config"),
    benchmark:
        benchmark_path("report", "run_config")
    conda:
        DIP_ENV
    params:
        config=lambda w: json.dumps(config),
    shell:
        "dip run-config --config-json {params.config:q} --out {output:q} > {log:q} 2>&1"


rule architecture:
    """The layer table of the network a target's report describes."""
    output:
        mode_path(paths.ARCHITECTURE),
    log:
        log_path("report", "{target}/architecture"),
    benchmark:
        benchmark_path("report", "{target}/architecture")
    conda:
        DIP_ENV
    params:
        preset=lambda w: reports.architecture_preset(PLAN, w.target),
    shell:
        "dip describe --preset {params.preset} --json > {output:q} 2> {log:q}"


rule paper_table:
    """A paper table: our PSNR over seeds beside the paper, Papyan et al. and the published outputs."""
    input:
        unpack(lambda w: kinds.paper_table.inputs(PLAN, w.experiment)),
    output:
        csv=report(
            mode_path(paths.TABLE_CSV),
            caption="../report/table1.rst",
            category="Tables",
        ),
        md=mode_path(paths.TABLE_MD),
    log:
        log_path("report", "{experiment}/table"),
    benchmark:
        benchmark_path("report", "{experiment}/table")
    conda:
        DIP_ENV
    params:
        args=lambda w: kinds.paper_table.args(PLAN, w.experiment),
    shell:
        "dip table1 {params.args:q} --out-csv {output.csv:q} --out-md {output.md:q} > {log:q} 2>&1"


rule figure:
    """A figure: the experiment's image on top, a reused image with the published outputs below."""
    input:
        lambda w: kinds.figure.inputs(PLAN, w.experiment),
    output:
        png=report(
            mode_path(paths.FIGURE_PNG),
            caption="../report/figure7.rst",
            category="Figures",
        ),
        pdf=mode_path(paths.FIGURE_PDF),
    log:
        log_path("report", "{experiment}/figure"),
    benchmark:
        benchmark_path("report", "{experiment}/figure")
    conda:
        DIP_ENV
    params:
        args=lambda w: kinds.figure.args(PLAN, w.experiment),
    shell:
        "dip figure7 {params.args:q} --out-png {output.png:q} --out-pdf {output.pdf:q} > {log:q} 2>&1"


rule curves:
    """PSNR against iterations per image: mean over seeds and the spread."""
    input:
        lambda w: shared.fit_dirs(PLAN, w.experiment),
    output:
        report(
            mode_path(paths.CURVES), caption="../report/curves.rst", category="Curves"
        ),
    log:
        log_path("report", "{experiment}/curves"),
    benchmark:
        benchmark_path("report", "{experiment}/curves")
    conda:
        DIP_ENV
    params:
        args=lambda w: shared.curves_args(PLAN, w.experiment),
    shell:
        "dip curves {params.args:q} --out {output:q} > {log:q} 2>&1"


rule snapshots:
    """The output at chosen iterations, one row per image."""
    input:
        lambda w: shared.fit_dirs(PLAN, w.experiment),
    output:
        report(
            mode_path(paths.SNAPSHOTS),
            caption="../report/snapshots.rst",
            category="Snapshots",
        ),
    log:
        log_path("report", "{experiment}/snapshots"),
    benchmark:
        benchmark_path("report", "{experiment}/snapshots")
    conda:
        DIP_ENV
    params:
        args=lambda w: shared.snapshots_args(PLAN, w.experiment),
    shell:
        "dip snapshots {params.args:q} --out {output:q} > {log:q} 2>&1"


rule section:
    """A task's section (super-resolution, denoising, ...): its table beside the paper, and its figure."""
    input:
        lambda w: kinds.section.inputs(PLAN, w.experiment),
    output:
        json=mode_path(paths.SECTION_JSON),
        md=mode_path(paths.SECTION_MD),
        png=report(
            mode_path(paths.SECTION_PNG),
            caption="../report/section.rst",
            category="Sections",
        ),
    log:
        log_path("report", "{experiment}/section"),
    benchmark:
        benchmark_path("report", "{experiment}/section")
    conda:
        DIP_ENV
    params:
        args=lambda w: kinds.section.args(PLAN, w.experiment),
    shell:
        "dip section {params.args:q} --out-json {output.json:q} --out-md {output.md:q}"
        " --out-png {output.png:q} > {log:q} 2>&1"


rule study:
    """A study: every variant against the base, its curves, and a conclusion from the numbers."""
    input:
        lambda w: kinds.study.inputs(PLAN, w.experiment),
    output:
        json=mode_path(paths.STUDY_JSON),
        md=mode_path(paths.STUDY_MD),
        png=report(
            mode_path(paths.STUDY_PNG),
            caption="../report/study.rst",
            category="Studies",
        ),
    log:
        log_path("report", "{experiment}/study"),
    benchmark:
        benchmark_path("report", "{experiment}/study")
    conda:
        DIP_ENV
    params:
        args=lambda w: kinds.study.args(PLAN, w.experiment),
    shell:
        "dip study {params.args:q} --out-json {output.json:q} --out-md {output.md:q}"
        " --out-png {output.png:q} > {log:q} 2>&1"


rule report:
    """One target's report (HTML and Markdown) from its experiments' sections."""
    input:
        unpack(lambda w: reports.report_inputs(PLAN, w.target)),
    output:
        html=report(
            mode_path(paths.REPORT_HTML),
            caption="../report/report.rst",
            category="Report",
        ),
        md=mode_path(paths.REPORT_MD),
    log:
        log_path("report", "{target}/report"),
    benchmark:
        benchmark_path("report", "{target}/report")
    conda:
        DIP_ENV
    params:
        args=lambda w: reports.report_args(PLAN, w.target),
    shell:
        "dip report --run-config {input.run_config:q} --architecture {input.architecture:q}"
        " {params.args:q} --out-html {output.html:q} --out-md {output.md:q} > {log:q} 2>&1"


rule paper_report:
    """`make run`'s reports/report.html: the paper-mode report of target `all`, where the README says."""
    input:
        unpack(lambda w: reports.report_inputs(PLAN, "all")),
    output:
        html=paths.PAPER_REPORT_HTML,
        md=paths.PAPER_REPORT_MD,
    log:
        log_path("report", "paper_report"),
    benchmark:
        benchmark_path("report", "paper_report")
    conda:
        DIP_ENV
    params:
        args=lambda w: reports.report_args(PLAN, "all"),
    shell:
        "dip report --run-config {input.run_config:q} --architecture {input.architecture:q}"
        " {params.args:q} --out-html {output.html:q} --out-md {output.md:q} > {log:q} 2>&1"


rule build_partial_report:
    """A target's report from the fits that finished, after a run with --keep-going in which
    some failed: declared partial on its first line, every missing fit named."""
    input:
        unpack(lambda w: partial_reports.report_inputs(PLAN, w.target)),
    output:
        html=mode_path(paths.PARTIAL_HTML),
        md=mode_path(paths.PARTIAL_MD),
    log:
        log_path("report", "{target}/partial_report"),
    benchmark:
        benchmark_path("report", "{target}/partial_report")
    conda:
        DIP_ENV
    params:
        config=lambda w: json.dumps(config),
    shell:
        "dip report-partial --config-json {params.config:q} --target {wildcards.target}"
        " --out-html {output.html:q} --out-md {output.md:q} > {log:q} 2>&1"
