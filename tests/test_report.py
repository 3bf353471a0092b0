"""The report: sections, run-mode banner, relative images that exist, computed conclusions."""

import json
import re
import statistics
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dip.report import paper
from dip.report.content import conclusions
from dip.report.tables import read_csv
from synthetic_run import TABLE1, build_reports, fit_ids

SECTIONS = ("introduction", "method", "architecture", "hyperparameters", "data", "results", "runtime",
            "reproducibility", "discrepancies", "conclusion")


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs, self.ids = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.srcs.append(a["src"])
        if "id" in a:
            self.ids.append(a["id"])


def parsed(html: str) -> Images:
    p = Images()
    p.feed(html)
    return p


@pytest.fixture(scope="module", params=["paper", "quick"])
def run(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    build_reports(root, request.param)
    return request.param, root


def test_all_sections_and_the_mode_banner(run):
    mode, root = run
    html = (root / "reports/report.html").read_text()
    md = (root / "reports/report.md").read_text()
    ids = parsed(html).ids
    assert all(s in ids for s in SECTIONS) and "table1" in ids and "mode-banner" in ids
    quick_banner = "Quick mode: a smoke run, not a reproduction."
    assert (quick_banner in html) == (mode == "quick")
    assert (quick_banner in md) == (mode == "quick")
    assert ("QUICK MODE" in html) == (mode == "quick")  # the Table-1 title says so too
    for title in ("## Method", "## Architecture", "## Hyper-parameters", "## Data provenance", "## Results",
                  "## Runtime and hardware", "## Reproducibility", "## Known discrepancies", "## Conclusion"):
        assert title in md


def test_math_is_unicode_in_html_and_latex_in_markdown(run):
    _, root = run
    html = (root / "reports/report.html").read_text()
    md = (root / "reports/report.md").read_text()
    assert "&odot;" in html and "{0,&thinsp;1}<sup><var>H</var>&times;<var>W</var></sup>" in html
    assert "$$E(x; x_0) = \\lVert (f_\\theta(z) - x_0) \\odot m \\rVert^2,$$" in md
    assert "$m \\in \\{0, 1\\}^{H \\times W}$" in md


def test_every_image_exists_relative_to_the_report(run):
    _, root = run
    for name in ("report.html", "report.md"):
        text = (root / "reports" / name).read_text()
        srcs = parsed(text).srcs if name.endswith("html") else re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        assert len(srcs) == 4  # figure 7, curves, snapshots, the study's curves
        for src in srcs:
            assert not Path(src).is_absolute()
            assert (root / "reports" / src).is_file(), src


def test_tables_come_from_the_files(run):
    _, root = run
    html = (root / "reports/report.html").read_text()
    rows = read_csv(root / "reports/table1.csv")
    assert f"{rows[0]['ours_psnr_mean']:.2f} ± {rows[0]['ours_psnr_std']:.2f}" in html
    assert "2,217,573" in html and "enc0.conv" in html
    assert "https://example.org/synthetic/boat.png" in html
    # What we ran comes from each experiment's meta.json: figure7 ran at LR 0.01, table1 at 0.001.
    hyper = html[html.index('id="hyperparameters"'):html.index('id="data"')]
    assert hyper.count("<td>learning rate</td><td>–</td><td>0.01</td><td>0.01</td>") == 1
    assert hyper.count("<td>learning rate</td><td>–</td><td>0.001</td><td>0.001</td>") == 1
    runtime = html[html.index('id="runtime"'):html.index('id="reproducibility"')]
    metas = [json.loads(p.read_text()) for p in (root / "results/fits/table1").glob("*/seed*/meta.json")]
    total = sum(m["wall_s"] for m in metas)
    assert f"{total:.1f} s" in runtime and "Synthetic CPU" in runtime and "2.13.0" in runtime
    assert "<td>faithful: fp32 eager</td>" in runtime


def test_conclusion_sentences_match_the_numbers(run):
    mode, root = run
    metrics = [json.loads(p.read_text()) for p in (root / "results/metrics/table1").glob("*/seed*.json")]
    ours = {i: statistics.fmean(m["output"]["psnr"] for m in metrics if m["image"] == i) for i in TABLE1}
    diffs = {i: ours[i] - paper.TABLE1_DIP[i] for i in TABLE1}
    close = sum(abs(d) <= 0.3 for d in diffs.values())
    worst = max(diffs, key=lambda i: abs(diffs[i]))
    wins = sum(ours[i] > paper.TABLE1_PAPYAN[i] for i in TABLE1)
    expected = [
        f"Over 3 images, our mean PSNR is {statistics.fmean(ours.values()):.2f} dB against the paper's "
        f"{statistics.fmean(paper.TABLE1_DIP[i] for i in TABLE1):.2f} dB, a mean difference of "
        f"{statistics.fmean(diffs.values()):+.2f} dB.",
        f"{close} of 3 images are within 0.3 dB of the paper; the largest gap is "
        f"{paper.TABLE1_LABELS[worst]} ({diffs[worst]:+.2f} dB).",
        f"Our result beats Papyan et al.'s published number on {wins} of 3 images.",
    ]
    html = (root / "reports/report.html").read_text()
    md = (root / "reports/report.md").read_text()
    conclusion = html[html.index('id="conclusion"'):]
    for sentence in expected:
        assert sentence.replace("'", "&#39;") in conclusion
        assert sentence in md
    assert ("smoke run" in conclusion) == (mode == "quick")


def test_conclusions_count_images_within_tolerance():
    def row(image, ours, std=0.1):
        return {"image": image, "label": image, "n_seeds": 3, "ours_psnr_mean": ours, "ours_psnr_std": std,
                "paper_dip": 30.0, "paper_papyan": 29.0, "published_dip_psnr": 29.9, "diff_vs_paper": ours - 30.0}

    out = conclusions([row("a", 30.2), row("b", 29.75), row("c", 28.0, 0.4), {"image": "mean"}], "paper")
    assert out[0] == "Over 3 images, our mean PSNR is 29.32 dB against the paper's 30.00 dB, a mean difference of -0.68 dB."
    assert out[1] == "2 of 3 images are within 0.3 dB of the paper; the largest gap is c (-2.00 dB)."
    assert out[2] == "Our result beats Papyan et al.'s published number on 2 of 3 images."
    assert out[3].startswith("The authors' published 8-bit outputs score -0.10 dB on average")
    assert out[4].startswith("Across seeds the standard deviation averages 0.20 dB (largest 0.40 dB)")


def test_missing_optional_pieces_are_left_out_not_fatal(tmp_path):
    build_reports(tmp_path, "paper", with_figure7=False, with_study=False)
    html = (tmp_path / "reports/report.html").read_text()
    assert "Figure 7" not in html[html.index('id="results"'):] and "Study" not in html
    assert len(parsed(html).srcs) == 2


def test_a_study_section_has_its_table_curves_and_computed_conclusion(run):
    from dip.files.jsonio import read_json

    _, root = run
    html = (root / "reports/report.html").read_text()
    md = (root / "reports/report.md").read_text()
    summary = read_json(root / "reports/study_lr/study.json")
    assert 'id="study-lr_study"' in html and "### Study: lr_study" in md
    base, variant = summary["variants"]
    assert f"{base['psnr_mean']:.2f}" in html
    assert summary["conclusions"] and all(c.replace("'", "&#39;") in html and c in md for c in summary["conclusions"])
    assert " win" in summary["conclusions"][0]


def test_a_second_table_variant_is_rendered_with_its_own_conclusions(tmp_path):
    from dip.commands import report as report_cmd
    from synthetic_run import run_command

    build_reports(tmp_path, "paper")
    rep = tmp_path / "reports"
    rep.joinpath("table1_legacy.csv").write_text(rep.joinpath("table1.csv").read_text())
    run_command(report_cmd, ["--run-config", tmp_path / "results/run_config.json", "--architecture", rep / "architecture.json",
                             "--table", f"table1={rep / 'table1.csv'}", f"legacy={rep / 'table1_legacy.csv'}",
                             "--out-html", rep / "r.html", "--out-md", rep / "r.md"])
    html = (rep / "r.html").read_text()
    ids = parsed(html).ids
    assert "table1" in ids and "table1_legacy" in ids
    assert "[legacy]" in html and "<h3>legacy</h3>" in html
    # Without --results the runtime and spread sections say so instead of failing.
    assert "No fit metadata was found." in html and "No per-fit metrics were found." in html


def test_pitfall_choices_follow_the_fits_switches():
    from dip.report.content import our_choices

    def bn(configs):
        return next(c["ours"] for c in our_choices(configs, None) if c["topic"].startswith("BN"))

    assert bn([{"legacy": False}]).startswith("current PyTorch defaults")
    assert bn([{"legacy": True}]).startswith("legacy switch on")
    assert bn([{"legacy": True}, {"legacy": False}]).startswith("both")
    def choice(configs, topic):
        return next(c["ours"] for c in our_choices(configs, None) if c["topic"] == topic)

    official = {"backtrack": "official", "backtrack_every": 50, "final_input": "noisy"}
    assert choice([official], "Backtracking").startswith("the notebook's")
    assert "every 50 iterations" in choice([official], "Backtracking")
    both = choice([official, {"backtrack": "full", "backtrack_every": 25}], "Backtracking")
    assert "the notebook's" in both and "full-state" in both and "every 25, 50 iterations" in both
    assert choice([{"backtrack": "off"}], "Backtracking").startswith("none")
    assert "the last noisy input" in choice([official], "Final image")


def test_this_run_column_is_read_from_the_fits(run):
    from dip.report.content import experiments, fit_records, hyperparameters

    mode, root = run
    run_config = json.loads((root / "results/run_config.json").read_text())
    ran = {h["experiment"]: {r["setting"]: r["ran"] for r in h["rows"]}
           for h in hyperparameters(experiments(run_config), fit_records(*fit_ids(root)))}
    assert "–" not in ran["table1"].values() and "–" not in ran["figure7"].values()
    assert ran["table1"]["upsampling"] == "bilinear (align_corners=False)"
    assert ran["figure7"]["upsampling"] == "nearest"
    assert ran["table1"]["learning rate"] == "0.001" and ran["figure7"]["learning rate"] == "0.01"
    assert ran["table1"]["iterations"] == "40" and ran["table1"]["BN γ initialisation"] == "γ = 1, legacy switch off"
    assert ran["table1"]["backtracking"].startswith("the notebook's")
    assert ran["table1"]["backtracking"].endswith("every 50 iterations")
    assert ran["figure7"]["backtracking"].startswith("none")
    assert ran["table1"]["final image"].startswith("network in train mode fed the last noisy input")
    assert ran["figure7"]["final image"].startswith("network in train mode fed z")
    barbara = ran["table1"]["Barbara padding"]
    if mode == "quick":
        assert barbara == "none: fitted at 24 × 24"
    else:
        padded = [json.loads(p.read_text())["prepared_extent"]["output"]["psnr"]
                  for p in (root / "results/metrics/table1/barbara").glob("seed*.json")]
        assert barbara == (f"reflection pad to 34 × 34; PSNR on the original 32 × 32 "
                           f"(on the padded image: {statistics.fmean(padded):.2f} dB)")


def test_this_run_column_shows_every_value_its_fits_ran(run):
    """Fits of one experiment that ran different settings show each value, not the first fit's."""
    from dip.report.content import experiments, fit_records, hyperparameters

    _, root = run
    run_config = json.loads((root / "results/run_config.json").read_text())
    records = fit_records(*fit_ids(root))
    table1 = [r for r in records if r["experiment"] == "table1"]
    assert len(table1) > 1
    table1[-1]["meta"]["config"]["lr"] = 0.005
    ran = {h["experiment"]: {r["setting"]: r["ran"] for r in h["rows"]}
           for h in hyperparameters(experiments(run_config), records)}
    assert ran["table1"]["learning rate"] == "0.001 / 0.005"
    assert ran["table1"]["iterations"] == "40"
