"""Every path a run reads or writes, as templates: the one place rules and code take them from.

Everything a run writes lives under a root of its mode (``results/{mode}``, ``reports/{mode}``,
``data/inputs/{mode}``, ``logs/{mode}``, ``benchmarks/{mode}``), so runs of different modes
never share, replan or read each other's files. Verified downloads (``data/raw``) are shared:
a file there always has its registry hash.
"""

RAW = "data/raw/{path}"

INPUTS = "data/inputs/{mode}/{experiment}/{image}/seed{seed}"
FIT = "results/{mode}/fits/{experiment}/{variant}/{image}/seed{seed}"
METRICS = "results/{mode}/metrics/{experiment}/{variant}/{image}/seed{seed}.json"
RUN_CONFIG = "results/{mode}/run_config.json"

#: Per experiment: its report kind's files.
EXPERIMENT_REPORT = "reports/{mode}/experiments/{experiment}"
TABLE_CSV = EXPERIMENT_REPORT + "/table.csv"
TABLE_MD = EXPERIMENT_REPORT + "/table.md"
FIGURE_PNG = EXPERIMENT_REPORT + "/figure.png"
FIGURE_PDF = EXPERIMENT_REPORT + "/figure.pdf"
CURVES = EXPERIMENT_REPORT + "/curves.png"
SNAPSHOTS = EXPERIMENT_REPORT + "/snapshots.png"
SECTION_JSON = EXPERIMENT_REPORT + "/section.json"
SECTION_MD = EXPERIMENT_REPORT + "/section.md"
SECTION_PNG = EXPERIMENT_REPORT + "/section.png"
STUDY_JSON = EXPERIMENT_REPORT + "/study.json"
STUDY_MD = EXPERIMENT_REPORT + "/study.md"
STUDY_PNG = EXPERIMENT_REPORT + "/study.png"

#: Per named target (all, studies, everything, ...): one report of its experiments.
TARGET_REPORT = "reports/{mode}/{target}"
ARCHITECTURE = TARGET_REPORT + "/architecture.json"
REPORT_HTML = TARGET_REPORT + "/report.html"
REPORT_MD = TARGET_REPORT + "/report.md"

#: A target's report from the fits that finished, after a run in which some failed.
PARTIAL_REPORT = TARGET_REPORT + "/partial"
PARTIAL_HTML = PARTIAL_REPORT + "/report.html"
PARTIAL_MD = PARTIAL_REPORT + "/report.md"
PARTIAL_SECTION = PARTIAL_REPORT + "/experiments/{experiment}"

#: `make run`'s report (paper mode, target `all`), where the README points.
PAPER_REPORT_HTML = "reports/report.html"
PAPER_REPORT_MD = "reports/report.md"

LOG = "logs/{mode}/{step}/{name}.log"
BENCHMARK = "benchmarks/{mode}/{step}/{name}.tsv"

#: What each wildcard may match in the templates above.
WILDCARDS = {
    "experiment": r"[A-Za-z0-9_]+",
    "variant": r"[A-Za-z0-9_.=+\-]+",
    "image": r"[A-Za-z0-9_.\-]+",
    "seed": r"[0-9]+",
    "target": r"[A-Za-z0-9_]+",
}


def fill(template: str, **values) -> str:
    """A template with some wildcards filled; the others stay ``{name}`` for Snakemake."""

    class Keep(dict):
        def __missing__(self, key):
            return "{" + key + "}"

    return template.format_map(Keep(values))


def for_mode(template: str, mode: str) -> str:
    """A rule's pattern: the template with this run's mode filled in."""
    return fill(template, mode=mode)


def log(mode: str, step: str, name: str) -> str:
    return LOG.format(mode=mode, step=step, name=name)


def benchmark(mode: str, step: str, name: str) -> str:
    return BENCHMARK.format(mode=mode, step=step, name=name)
