"""The blog-style report (HTML and Markdown) from files on disk, through Jinja templates.

One content model (``context``) feeds both templates. Everything shown is read from files the
caller names (run_config.json, architecture.json, each experiment's section files by kind,
each fit's meta.json and metrics.json): nothing is globbed. Every sentence of a conclusion is
computed from the numbers, so the report can be rebuilt at any time without refitting.
"""

import json
import os
from pathlib import Path

import jinja2

from ..durations import human_duration
from ..errors import DipError
from ..files.jsonio import read_json
from ..spec.execution import Execution
from ..spec.outputs import OUTPUTS
from ..spec.tasks import get_task
from . import paper, study
from .aggregate import MISSING, mean, number, stats
from .tables import DISPLAY, read_csv, short, title

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

#: PSNR gap (dB) under which an image counts as reproduced.
TOLERANCE_DB = 0.3


def flatten(tree: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, value as text) of every leaf of a nested dict."""
    out = []
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += flatten(v, key + ".")
        else:
            out.append((key, json.dumps(v) if not isinstance(v, str) else v))
    return out


def data_files(run_config: dict) -> list[dict]:
    """The data files this run used (path, role, url, sha256), as `dip run-config` recorded them."""
    return sorted(run_config.get("data", []), key=lambda f: f["path"])


def experiments(run_config: dict) -> list[dict]:
    return [{"name": name, **cfg} for name, cfg in run_config.get("experiments", {}).items()]


def fit_records(fits: dict[str, str], metrics: dict[str, str] | None = None) -> list[dict]:
    """meta.json of each fit ("experiment/variant/image/seed" -> its folder), with its metrics
    where given (same id -> metrics.json)."""
    metrics = metrics or {}
    records = []
    for fit_id, folder in sorted(fits.items()):
        parts = fit_id.split("/")
        if len(parts) != 4:
            raise DipError(f"fit id {fit_id!r} is not experiment/variant/image/seed")
        exp, variant, image, seed = parts
        rec = {"experiment": exp, "variant": variant, "image": image, "seed": seed,
               "meta": read_json(Path(folder) / "meta.json")}
        if fit_id in metrics:
            rec["metrics"] = read_json(metrics[fit_id])
        records.append(rec)
    return records


def precision_path(meta: dict) -> str:
    """A fit's precision mode and the path it took (docs/performance.md), e.g.
    "fast: bf16, channels_last"; "–" for a fit from before the modes existed."""
    ex = meta.get("execution")
    if not isinstance(ex, dict):
        return "–"
    path = Execution.from_dict(ex)
    return f"{ex.get('precision', '?')}: {path.name}" + (", TF32" if path.tf32 else "")


def runtime(records: list[dict]) -> list[dict]:
    """Per experiment: device, precision path, torch version, seconds per iteration and total
    compute time."""
    by_exp: dict[str, list[dict]] = {}
    for r in records:
        by_exp.setdefault(r["experiment"], []).append(r["meta"])
    rows = []
    for exp, metas in by_exp.items():
        wall = [m["wall_s"] for m in metas if isinstance(m.get("wall_s"), (int, float))]
        its = [m["iterations"] for m in metas if isinstance(m.get("iterations"), (int, float))]
        rows.append({
            "experiment": exp, "fits": len(metas),
            "device": ", ".join(sorted({str(m.get("device_name") or m.get("device") or "?") for m in metas})),
            "precision": ", ".join(sorted({precision_path(m) for m in metas})),
            "torch": ", ".join(sorted({str(m.get("torch_version", "?")) for m in metas})),
            "s_per_iter": number(sum(wall) / sum(its), 4) if wall and its and len(wall) == len(its) and sum(its) else "–",
            "total_s": sum(wall),
            "total": human_duration(sum(wall)) if wall else "–",
            "iterations": ", ".join(str(i) for i in sorted(set(its))) or "–",
        })
    return rows


def spread(records: list[dict]) -> list[dict]:
    """Per (experiment, image): seeds and the spread of the final output's PSNR over them."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        if "metrics" in r:
            name = r["experiment"] if r.get("variant", "base") == "base" else f"{r['experiment']} [{r['variant']}]"
            groups.setdefault((name, r["image"]), []).append(r)
    rows = []
    for (exp, image), recs in sorted(groups.items()):
        ours = stats(r["metrics"]["output"]["psnr"] for r in recs)
        rows.append({
            "experiment": exp, "image": image,
            "seeds": ", ".join(sorted((r["seed"] for r in recs), key=lambda s: (len(s), s))),
            "mean": number(ours["mean"]),
            "clean": number(mean(r["metrics"]["output_clean"]["psnr"] for r in recs)),
            "ema": number(mean(r["metrics"]["ema"]["psnr"] for r in recs)),
            "std": number(ours["std"]),
            "range": number(ours["max"] - ours["min"]) if ours["n"] > 1 else MISSING,
        })
    return rows


def conclusions(rows: list[dict], mode: str) -> list[str]:
    """Sentences computed from Table-1 rows (as read from table1.csv)."""
    images = [r for r in rows if r["image"] != "mean" and r["n_seeds"] and r["paper_dip"] is not None]
    lacking = [r["label"] for r in rows if r["image"] != "mean" and short(r)]
    partial = ([f"This table is partial: fits did not finish for {', '.join(lacking)}; the sentences "
                "below cover the images with at least one finished fit."] if lacking else [])
    if not images:
        return partial + ["No Table-1 image has both our result and a paper value, so nothing can be compared yet."]
    n = len(images)
    diffs = [r["diff_vs_paper"] for r in images]
    ours = mean(r["ours_psnr_mean"] for r in images)
    theirs = mean(r["paper_dip"] for r in images)
    mean_diff = mean(diffs)
    close = [r for r in images if abs(r["diff_vs_paper"]) <= TOLERANCE_DB]
    worst = max(images, key=lambda r: abs(r["diff_vs_paper"]))
    out = partial
    if mode == "quick":
        out.append("This is a quick smoke run with very few iterations on small crops: the numbers below "
                   "show that the pipeline runs end to end, not whether the paper reproduces.")
    out.append(f"Over {n} image{'s' if n != 1 else ''}, our mean PSNR is {ours:.2f} dB against the paper's "
               f"{theirs:.2f} dB, a mean difference of {mean_diff:+.2f} dB.")
    out.append(f"{len(close)} of {n} image{'s are' if n != 1 else ' is'} within {TOLERANCE_DB} dB of the paper; "
               f"the largest gap is {worst['label']} ({worst['diff_vs_paper']:+.2f} dB).")
    with_papyan = [r for r in images if r["paper_papyan"] is not None]
    if with_papyan:
        wins = sum(r["ours_psnr_mean"] > r["paper_papyan"] for r in with_papyan)
        out.append(f"Our result beats Papyan et al.'s published number on {wins} of {len(with_papyan)} images.")
    published = [r for r in images if r["published_dip_psnr"] is not None]
    if published:
        gap = mean(r["published_dip_psnr"] - r["paper_dip"] for r in published)
        out.append(f"The authors' published 8-bit outputs score {gap:+.2f} dB on average relative to the values "
                   f"printed in the paper; saving to 8 bits is one reason, so differences of that size mean little.")
    stds = [r["ours_psnr_std"] for r in images if r["ours_psnr_std"] is not None]
    if stds:
        out.append(f"Across seeds the standard deviation averages {mean(stds):.2f} dB "
                   f"(largest {max(stds):.2f} dB), a spread the paper never reports.")
    return out + _stopping(images)


def _stopping(images: list[dict]) -> list[str]:
    """Where the ground-truth-free stop helps, and where it stops before or after the peak."""
    kept = [r for r in images if r.get("es_psnr_mean") is not None and r.get("peak_psnr_mean") is not None]
    if not kept:
        return []
    helps = [r["label"] for r in kept if (r["es_gain_mean"] or 0) > 0]
    early = [r["label"] for r in kept if r["es_iteration_mean"] < r["peak_iteration_mean"]]
    late = [r["label"] for r in kept if r["es_iteration_mean"] > r["peak_iteration_mean"]]
    text = (f"Stopped without the ground truth (ES-WMV), the mean PSNR is {mean(r['es_psnr_mean'] for r in kept):.2f} dB, "
            f"{mean(r['es_gain_mean'] for r in kept):+.2f} dB against the paper's output and "
            f"{mean(r['peak_gap_mean'] for r in kept):.2f} dB below the traced peak (an oracle). ")
    text += (f"It beats the paper's output on {len(helps)} of {len(kept)} images"
             + (f" ({', '.join(helps)})" if helps else "") + "; ")
    text += (f"it stops before the peak on {len(early)} ({', '.join(early) or 'none'}) and after it on "
             f"{len(late)} ({', '.join(late) or 'none'}).")
    return [text]


def padding(records: list[dict]) -> str | None:
    """How the fits of Barbara (the image the Table-1 notebook pads) were sized, from their
    meta.json and metrics; None when no such fit was scored."""
    fits = [r for r in records if r["image"] == "barbara" and "metrics" in r]
    if not fits:
        return None
    h, w = fits[0]["meta"]["image_size"]
    oh, ow = fits[0]["metrics"]["box"][2:]
    if (h, w) == (oh, ow):
        return f"none: fitted at {h} × {w}"
    padded = [r["metrics"]["prepared_extent"]["output"]["psnr"] for r in fits]
    return (f"reflection pad to {h} × {w}; PSNR on the original {oh} × {ow} "
            f"(on the padded image: {mean(padded):.2f} dB)")


def our_choices(configs: list[dict], barbara: str | None) -> list[dict]:
    """Each pitfall with the choice this run follows; switches are read from the fits' configs
    (meta.json `config`), Barbara's sizing from `padding`."""
    legacy = {bool(c.get("legacy")) for c in configs}
    every = {c["backtrack_every"] for c in configs if c.get("backtrack", "off") != "off"}
    modes = sorted({c.get("backtrack", "off") for c in configs})
    if legacy == {True, False}:
        bn = "both: some experiments run with the legacy switch on, some off (see hyper-parameters)"
    elif legacy == {True}:
        bn = "legacy switch on: old BN initialisation and align_corners=True"
    else:
        bn = "current PyTorch defaults (γ = 1, align_corners=False); the engine's legacy switch gives the old behaviour"
    checks = f", every {', '.join(map(str, sorted(every)))} iterations" if every else ""
    finals = sorted({c.get("final_input", "noisy") for c in configs})
    choices = {
        "BN initialisation and bilinear upsampling": bn,
        "Final image": ("the same: Ours is the notebook's image ("
                        + " / ".join(_FINAL[f] for f in finals) + "); the noise-free output and "
                        "the output average are extra columns with their gain"),
        "Backtracking": ("; ".join(_BACKTRACK[m] for m in modes) + checks
                         + " (as with plotting on, whatever the plotting)"),
        "Seeds": "every fit is seeded and the table gives mean ± std over seeds",
        "Barbara padding": barbara or "no Barbara fit in this run",
        "Determinism": "seeded, but bilinear runs on a GPU are not bit-for-bit repeatable",
    }
    return [{"topic": t, "fact": f, "ours": choices.get(t, "–")} for t, f in paper.PITFALLS]


#: What the final image is fed and how fits backtrack, in words, by the fit's settings.
_FINAL = {"noisy": "the last noisy input z + σ_r·n", "clean": "z, as the inpainting notebook shows it"}
_BACKTRACK = {
    "official": "the notebook's: masked PSNR of the training output before the step; on a > 5 dB "
                "drop the last good weights only, and the step still follows",
    "full": "full-state (ours): PSNR of f(z) after the step; weights, Adam and average restored",
    "off": "none, as in the notebook of this experiment",
}

#: How the engine feeds the network, by preset `input`.
_INPUTS = {"noise": "{depth} channels, U(0, 1) × 0.1, image size", "meshgrid": "2-channel meshgrid",
           "image": "the given image ({depth} channels)"}


def ran_settings(meta: dict, barbara: str | None) -> dict[str, str]:
    """What one fit ran, per hyper-parameter row, from its meta.json (the engine's own record)."""
    cfg = meta["config"]
    preset = cfg["preset"]
    up = preset["net"]["upsample"]
    up = up if isinstance(up, str) else " / ".join(up)
    if "bilinear" in up:
        up += f" (align_corners={cfg['legacy']})"
    return {
        "network": f"{meta['params']:,} parameters",
        "upsampling": up,
        "input z": _INPUTS[preset["input"]].format(depth=preset["input_depth"]),
        "input noise σ_r per iteration": f"{cfg['reg_noise_std']:g}",
        "optimiser": "Adam, default betas, constant learning rate",  # the engine's only optimiser
        "learning rate": f"{cfg['lr']:g}",
        "iterations": str(meta["iterations"]),
        "loss": "mean((out − x₀)² · m)" if get_task(preset["task"]).masked else "MSE through the forward operator",
        "backtracking": _BACKTRACK[cfg.get("backtrack", "off")] + (
            f", every {cfg['backtrack_every']} iterations" if cfg.get("backtrack", "off") != "off" else ""),
        "Barbara padding": barbara or "–",
        "final image": f"network in train mode fed {_FINAL[cfg.get('final_input', 'noisy')]} (output.npy)",
        "BN γ initialisation": "U(0, 1), legacy switch on" if cfg["legacy"] else "γ = 1, legacy switch off",
    }


def hyperparameters(exps: list[dict], records: list[dict]) -> list[dict]:
    """Per experiment whose preset the paper covers: paper vs official code vs what we ran (read
    from every base fit of the experiment, values that differ between fits joined by " / ";
    "–" everywhere when it has none)."""
    out = []
    for exp in exps:
        facts = paper.HYPERPARAMETERS.get(exp["preset"])
        if not facts:
            continue
        mine = [r for r in records if r["experiment"] == exp["name"] and r.get("variant", "base") == "base"]
        runs = [ran_settings(r["meta"], padding(mine)) for r in mine]
        ran = {k: " / ".join(dict.fromkeys(run[k] for run in runs)) for k in runs[0]} if runs else {}
        rows = [{"setting": setting, "paper": in_paper, "official": official, "ran": ran.get(setting, "–")}
                for setting, in_paper, official in facts]
        out.append({"experiment": exp["name"], "preset": exp["preset"], "rows": rows,
                    "resolved": flatten(mine[0]["meta"]["config"]) if mine else []})
    return out


def table_view(path: Path, mode: str, name: str = "", first: bool = True) -> dict:
    """A paper table's CSV ready for the templates: display cells, a closeness class per row,
    and the conclusions drawn from it. The first table of a report has the id `table1`."""
    rows = read_csv(path)
    diffs = [r["diff_vs_paper"] for r in rows]
    return {
        "name": name, "id": "table1" if first else f"table1_{name}",
        "title": title(mode, rows) + (f" [{name}]" if name and not first else ""),
        "headers": [h for h, _ in DISPLAY],
        "rows": [{"mean": r["image"] == "mean",
                  "close": "" if d is None else ("close" if abs(d) <= TOLERANCE_DB else "far"),
                  "cells": [f(r).replace("**", "") for _, f in DISPLAY]} for r, d in zip(rows, diffs)],
        "conclusions": conclusions(rows, mode),
    }


def link(path: str | Path, out_file: Path, name: str) -> dict:
    """An image for the templates: its link relative to the report file, and its caption name."""
    rel = os.path.relpath(Path(path).resolve(), out_file.resolve().parent).replace(os.sep, "/")
    return {"src": rel, "name": name}


def study_view(name: str, path: Path, out_file: Path) -> dict:
    """A study.json ready for the templates: its table, its curves and its conclusion."""
    summary = read_json(path)
    return {"name": name, "id": f"study-{name}", "headers": study.HEADERS,
            "rows": study.table_rows(summary), "conclusions": summary["conclusions"],
            "variants": len(summary["variants"]),
            "curves": link(path.with_name("study.png"), out_file, name)}


def section_view(name: str, path: Path, out_file: Path) -> dict:
    """A task section (`dip section`) ready for the templates."""
    section = read_json(path)
    return {"name": name, "id": f"section-{name}", "task": section["task"], "set": section["set"],
            "title": get_task(section["task"]).title,
            "headers": section["headers"], "rows": section["rows"],
            "conclusions": section["conclusions"],
            "figure": link(path.with_name("section.png"), out_file, name)}


#: The file each report kind's section is built around (as `dip report` takes it).
_MAIN_FILE = {"paper_table": "table", "figure": "figure", "study": "study", "section": "section"}


def context(run_config: dict, architecture: dict, sections: dict[str, dict[str, str]],
            fits: dict[str, str], metrics: dict[str, str], out_file: Path,
            names: list[str] | None = None, partial: dict | None = None) -> dict:
    """Everything the templates show; image links are relative to `out_file`'s folder.

    ``sections`` maps each kind of file (table, figure, curves, snapshots, study) to
    experiment -> path; ``names`` are the experiments this report covers (default: all in
    run_config). ``partial`` marks a report made while some fits are missing: {"planned",
    "finished", "missing": [fit ids], "sections": {experiment: [its missing slot ids]}}.
    """
    mode = run_config.get("mode", "paper")
    if mode not in ("paper", "quick"):
        raise DipError(f"run_config mode must be 'paper' or 'quick', got {mode!r}")
    exps = [e for e in experiments(run_config) if names is None or e["name"] in names]
    records = fit_records(fits, metrics)
    tables = [table_view(Path(p), mode, name, first=i == 0)
              for i, (name, p) in enumerate(sections.get("table", {}).items())]
    figures = [link(p, out_file, name) for name, p in sections.get("figure", {}).items()]
    # A partial report's experiments whose main file could not be made from the fits it has.
    lacking = (partial or {}).get("sections", {})
    unbuilt = [{"name": e["name"], "kind": e.get("report"), "missing": lacking[e["name"]]} for e in exps
               if lacking.get(e["name"]) and e["name"] not in sections.get(_MAIN_FILE.get(e.get("report")), {})]
    return {
        "mode": mode, "quick": mode == "quick",
        "experiments": exps,
        "architecture": architecture,
        "hyperparameters": hyperparameters(exps, records),
        "data_files": data_files(run_config),
        "machine": flatten(run_config["machine"]) if isinstance(run_config.get("machine"), dict) else [],
        "tables": tables,
        "figures": figures,
        "partial": partial,
        "missing_figures": [u for u in unbuilt if u["kind"] == "figure"],
        "unbuilt": [u for u in unbuilt if u["kind"] not in ("figure", "none")],
        "curves": [link(p, out_file, name) for name, p in sections.get("curves", {}).items()],
        "snapshots": [link(p, out_file, name) for name, p in sections.get("snapshots", {}).items()],
        "studies": [study_view(name, Path(p), out_file) for name, p in sections.get("study", {}).items()],
        "sections": [section_view(name, Path(p), out_file) for name, p in sections.get("section", {}).items()],
        "runtime": runtime(records),
        "spread": spread(records),
        "pitfalls": our_choices([r["meta"]["config"] for r in records], padding(records)),
        "tolerance": TOLERANCE_DB,
        "outputs": [{"name": n, "label": label, "text": text} for n, (label, text) in OUTPUTS.items()],
    }


def render(ctx: dict, template: str, templates: Path = TEMPLATES) -> str:
    """Render one template (HTML ones autoescaped); a missing variable is an error, not a blank."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                             autoescape=template.endswith(".html.j2"),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["thousands"] = lambda v: f"{v:,}" if isinstance(v, int) else v
    env.filters["bold"] = lambda v: f"**{v}**" if v not in ("", "–") else v
    try:
        return env.get_template(template).render(**ctx)
    except jinja2.TemplateNotFound as exc:
        raise DipError(f"report template not found: {templates / str(exc)}") from None
