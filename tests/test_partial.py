"""The partial report: what it plans from the fits that finished, and how every table and
figure marks the ones that did not (the run end to end is in test_workflow.py)."""

import copy
import json
from contextlib import redirect_stdout

import pytest

from conftest import REPO
from dip import pipeline
from dip.cli import main
from dip.pipeline import partial, reports
from dip.report.content import context, render
from dip.report.study import summarise, table_rows, to_markdown
from dip.report.tables import read_csv, table1_rows, to_csv, to_markdown as table_markdown


@pytest.fixture(scope="module")
def quick_config():
    config = pipeline.load_config(REPO / "config.yaml")
    config["mode"] = "quick"
    config["experiments"]["table1"]["images"] = ["house", "barbara", "peppers"]
    config["experiments"]["table1_full_backtracking"]["quick_images"] = ["house", "barbara", "peppers"]
    config["experiments"]["mine"] = {"preset": "table1", "images": ["house", "peppers"],
                                     "mask": "authors", "report": "study", "vary": {"lr": [0.01]}}
    config["targets"] = {"all": ["table1", "figure7"], "studies": ["mine"]}
    return config


def finished_except(*gone):
    """A `finished` test: every fit folder is there except those named (experiment/variant/image/seed)."""
    return lambda folder: not any(folder.endswith(g) for g in gone)


def test_missing_fits_include_the_paper_tables_companions(quick_config):
    plan = pipeline.Plan(quick_config)
    every = partial.target_fits(plan, "all")
    assert {f.experiment for f in every} == {"table1", "table1_full_backtracking", "figure7"}
    missing = partial.missing_fits(plan, "all", finished_except("table1/base/house/seed0",
                                                                "table1_full_backtracking/base/peppers/seed0"))
    assert [f.id for f in missing] == ["table1/base/house/0", "table1_full_backtracking/base/peppers/0"]
    assert partial.missing_fits(plan, "all", lambda folder: True) == []


def test_complete_sections_keep_their_files_and_incomplete_ones_are_rebuilt(quick_config):
    plan = pipeline.Plan(quick_config)
    missing = partial.missing_fits(plan, "all", finished_except("table1/base/house/seed0", "figure7/base/kate/seed0"))
    table, figure = partial.sections(plan, "all", missing)
    assert table.missing == ["table1/base/house/0"]
    assert all("/all/partial/experiments/table1/" in p for p in table.files.values())
    argv = next(c for c in table.commands if c[0] == "table1")
    metrics = argv[argv.index("--metrics") + 1:argv.index("--metrics-full-backtracking")]
    assert [m.split("/")[-2] for m in metrics] == ["barbara", "peppers"]
    # Every image keeps its published columns; the planned seeds say what is missing.
    assert "house=data/raw/table1/house.png" in argv
    assert argv[argv.index("--expected") + 1:argv.index("--expected") + 4] == ["house=1", "barbara=1", "peppers=1"]
    # Figure 7 lacks its top fit: not drawn, but its curves and snapshots (Barbara) are.
    assert figure.missing == ["figure7/base/kate/0"]
    assert set(figure.files) == {"curves", "snapshots"}
    assert [c[0] for c in figure.commands] == ["curves", "snapshots"]
    assert "(missing: figure7/base/kate/0)" in " ".join(figure.commands[0])

    complete = partial.sections(plan, "all", [])
    assert all(not s.missing and not s.commands for s in complete)
    assert [s.files for s in complete] == [reports.outputs(plan, n) for n in ("table1", "figure7")]


def test_the_partial_reports_inputs_and_arguments(quick_config):
    plan = pipeline.Plan(quick_config)
    finished = finished_except("table1/base/house/seed0")
    inputs = partial.report_inputs(plan, "all", finished)
    assert "results/quick/fits/table1/base/house/seed0" not in inputs["fits"]
    assert "results/quick/fits/table1/base/barbara/seed0" in inputs["fits"]
    # The complete figure's files come from the normal rules; the table is rebuilt.
    assert "reports/quick/experiments/figure7/figure.png" in inputs["sections"]
    assert not any("experiments/table1/" in p for p in inputs["sections"])
    args = partial.report_args(plan, "all", partial.missing_fits(plan, "all", finished))
    status = json.loads(args[args.index("--partial-json") + 1])
    assert status == {"planned": 7, "finished": 6, "missing": ["table1/base/house/0"],
                      "sections": {"table1": ["table1/base/house/0"]}}
    assert "table1/base/house/0@results/quick/fits/table1/base/house/seed0" not in args
    assert "--table" in args and "table1=reports/quick/all/partial/experiments/table1/table.csv" in args


def test_a_studys_missing_fits_are_listed_per_variant(quick_config):
    plan = pipeline.Plan(quick_config)
    missing = partial.missing_fits(plan, "studies", finished_except("mine/lr=0.01/peppers/seed0"))
    (section,) = partial.sections(plan, "studies", missing)
    spec = json.loads(next(c for c in section.commands if c[0] == "study")[2])
    by_id = {v["id"]: v for v in spec["variants"]}
    assert by_id["lr=0.01"]["missing"] == ["peppers/seed0"]
    assert [f["image"] for f in by_id["lr=0.01"]["fits"]] == ["house"]
    assert by_id["base"]["missing"] == []


def _metrics(image, seed, psnr):
    out = {"psnr": psnr, "psnr_uint8": psnr, "ssim": 0.9}
    return {"image": image, "seed": seed, "output": out, "output_clean": out, "ema": out, "backtracks": 0}


def test_a_partial_table_says_what_is_missing_and_over_what_the_mean_runs(tmp_path):
    rows = table1_rows([_metrics("barbara", 0, 30.0), _metrics("barbara", 1, 31.0), _metrics("peppers", 0, 33.0)],
                       expected={"barbara": 3, "house": 3, "peppers": 1})
    by = {r["image"]: r for r in rows}
    assert (by["barbara"]["n_seeds"], by["barbara"]["n_expected"]) == (2, 3)
    assert by["house"]["n_seeds"] == 0 and by["house"]["ours_psnr_mean"] is None
    (tmp_path / "t.csv").write_text(to_csv(rows))
    back = {r["image"]: r for r in read_csv(tmp_path / "t.csv")}
    assert back["house"]["n_expected"] == 3 and back["mean"]["n_expected"] == 3
    md = table_markdown(rows, "paper")
    assert "our results on 2 of 3 image(s) (PARTIAL" in md
    assert "| Barbara | 2 of 3 | 30.50 ± 0.71 |" in md
    assert "| House | 0 of 3 | missing | missing |" in md
    assert "| **mean** | 2 of 3 images |" in md
    assert "fits did not finish for Barbara (2 of 3 seeds), House (0 of 3 seeds)" in md

    complete = table_markdown(table1_rows([_metrics("peppers", 0, 33.0)]), "paper")
    assert "PARTIAL" not in complete and "| missing" not in complete and "of 1" not in complete


def test_a_partial_study_marks_missing_fits_and_says_so_first():
    spec = {"experiment": "mine", "variants": [
        {"id": "base", "label": "base", "fits": [{"image": "house", "seed": 0, "fit": "a", "metrics": None}]},
        {"id": "lr=0.01", "label": "lr = 0.01", "missing": ["house/seed0", "peppers/seed0"], "fits": []},
    ]}
    summary = summarise(spec, {})
    assert summary["conclusions"][0].startswith("Partial: 2 fits of this study did not finish")
    rows = table_rows(summary)
    assert ["lr = 0.01", "house (missing: seed0)", "missing", "missing", "–", "–", "–", "–"] in rows
    assert ["lr = 0.01", "peppers (missing: seed0)", "missing", "missing", "–", "–", "–", "–"] in rows
    assert "mean (0 of 2 images)" in to_markdown(summary)


def test_a_partial_report_declares_itself_on_its_first_line(tmp_path):
    run_config = {"mode": "paper", "experiments": {"figure7": {"report": "figure", "preset": "text_inpainting"},
                                                   "mine": {"report": "study", "preset": "table1"}}}
    status = {"planned": 4, "finished": 2, "missing": ["figure7/base/kate/0", "mine/base/house/0"],
              "sections": {"figure7": ["figure7/base/kate/0"], "mine": ["mine/base/house/0"]}}
    (tmp_path / "arch.json").write_text("")
    with open(tmp_path / "arch.json", "w") as out, redirect_stdout(out):
        assert main(["describe", "--preset", "text_inpainting", "--json"]) == 0
    arch = json.loads((tmp_path / "arch.json").read_text())
    for template in ("report.md.j2", "report.html.j2"):
        ctx = context(run_config, arch, {}, {}, {}, tmp_path / "r", None, copy.deepcopy(status))
        text = render(ctx, template)
        if template.endswith(".md.j2"):
            assert text.splitlines()[0] == "# PARTIAL REPORT (2 of 4 fits finished): Deep Image Prior, reproduced"
        else:
            assert 'data-partial="2/4"' in text and "<h1>PARTIAL REPORT (2 of 4 fits finished)" in text
        assert "Not drawn: missing fits figure7/base/kate/0." in text
        assert "Section <em>mine</em> not built" in text or "Section *mine* not built" in text
        assert "not built: missing fits mine/base/house/0." in text
        ctx = context(run_config, arch, {}, {}, {}, tmp_path / "r")
        assert "PARTIAL" not in render(ctx, template)
