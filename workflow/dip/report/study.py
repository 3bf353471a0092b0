"""A study's numbers and its conclusion: every variant against the base, per image and over
seeds, from the fits' metrics.json and trace.csv files.

Per variant and image: mean ± std over seeds of the PSNR and SSIM of the paper-defined output
(``output``); the output kept without the ground truth (``output_es``, ES-WMV) with its
iteration; and from the trace the peak PSNR during the fit with its iteration (an oracle: what
a perfect stopping rule would give) beside the final one. Per variant: the means over images.
The conclusion names the winning variant, its gain over the base, and whether its per-image
differences exceed the spread over seeds (with one seed, it says that no spread is known).
"""

from __future__ import annotations


import numpy as np

from ..errors import DipError
from ..files.jsonio import read_json
from .aggregate import mean, number, pm, psnr_at, stats

#: What the study tables and conclusion read from metrics.json: the paper-defined output.
SCORE = "output"


def _std(values: list[float]) -> float | None:
    return stats(values)["std"]


def best_of_trace(trace: dict[str, np.ndarray]) -> tuple[float | None, int | None, float | None]:
    """(best PSNR vs the ground truth during the fit, its iteration, the last traced PSNR)."""
    psnr = trace.get("psnr_gt")
    if psnr is None or not np.isfinite(psnr).any():
        return None, None, None
    i = int(np.nanargmax(psnr))
    finite = psnr[np.isfinite(psnr)]
    return float(psnr[i]), int(trace["iteration"][i]), float(finite[-1])


def summarise(spec: dict, traces: dict[str, dict[str, np.ndarray]]) -> dict:
    """The study's rows and conclusion from its spec (see dip.pipeline.kinds.study.spec) and
    the traces of its fits (fit folder -> trace columns).

    A variant's ``missing`` (a partial report: "image/seedN" of fits that did not finish) is
    carried into its rows, and an image whose fits all failed still gets a row.
    """
    if not spec.get("variants"):
        raise DipError("study spec has no variants")
    variants = []
    for v in spec["variants"]:
        missing = v.get("missing", [])
        images: dict[str, list[dict]] = {m.rsplit("/", 1)[0]: [] for m in missing}
        for f in v["fits"]:
            m = read_json(f["metrics"]) if f.get("metrics") else None
            best, best_it, last = best_of_trace(traces[f["fit"]]) if f["fit"] in traces else (None, None, None)
            images.setdefault(f["image"], []).append({
                "seed": f["seed"],
                "psnr": m[SCORE]["psnr"] if m else None,
                "ssim": m[SCORE]["ssim"] if m else None,
                "best_psnr": best, "best_iteration": best_it, "final_trace_psnr": last,
                **_stopped(m),
            })
        rows = []
        for image, fits in images.items():
            psnr = [f["psnr"] for f in fits]
            rows.append({
                "image": image, "seeds": len(fits),
                "psnr_mean": mean(psnr), "psnr_std": _std(psnr),
                "ssim_mean": mean([f["ssim"] for f in fits]), "ssim_std": _std([f["ssim"] for f in fits]),
                "final_psnr": mean([f["final_trace_psnr"] for f in fits]),
                "best_psnr": mean([f["best_psnr"] for f in fits]),
                "best_iteration": mean([f["best_iteration"] for f in fits]),
                "es_psnr": mean([f["es_psnr"] for f in fits]),
                "es_iteration": mean([f["es_iteration"] for f in fits]),
                "es_early": sum(f["es_iteration"] is not None and f["best_iteration"] is not None
                                and f["es_iteration"] < f["best_iteration"] for f in fits),
                "es_late": sum(f["es_iteration"] is not None and f["best_iteration"] is not None
                               and f["es_iteration"] > f["best_iteration"] for f in fits),
                "scored": bool(fits) and all(p is not None for p in psnr),
                "missing": [m.rsplit("/", 1)[1] for m in missing if m.rsplit("/", 1)[0] == image],
            })
        variants.append({
            "id": v["id"], "label": v["label"], "changes": v.get("changes", {}), "images": rows,
            "missing": missing,
            "psnr_mean": mean([r["psnr_mean"] for r in rows]),
            "ssim_mean": mean([r["ssim_mean"] for r in rows]),
            "best_psnr": mean([r["best_psnr"] for r in rows]),
            "final_psnr": mean([r["final_psnr"] for r in rows]),
            "es_psnr": mean([r["es_psnr"] for r in rows]),
            "es_early": sum(r["es_early"] for r in rows), "es_late": sum(r["es_late"] for r in rows),
            "fits": sum(r["seeds"] for r in rows),
        })
    lost = [f"{v['label']}: {m}" for v in variants for m in v["missing"]]
    partial = [f"Partial: {len(lost)} fit{'s' if len(lost) != 1 else ''} of this study did not "
               f"finish ({'; '.join(lost)}); the numbers below cover the fits that did."] if lost else []
    return {"experiment": spec["experiment"], "mode": spec.get("mode", "paper"),
            "score": SCORE, "variants": variants, "conclusions": partial + conclusions(variants)}


def _stopped(m: dict | None) -> dict:
    """The output kept without the ground truth: its PSNR and iteration (None before it existed)."""
    if not m or "output_es" not in m or not m.get("early_stop"):
        return {"es_psnr": None, "es_iteration": None}
    detected = m["early_stop"].get("detected_iteration")
    return {"es_psnr": m["output_es"]["psnr"], "es_iteration": m["iterations"] if detected is None else detected}


def _seeds(variants: list[dict]) -> int:
    return min((r["seeds"] for v in variants for r in v["images"] if r["seeds"]), default=0)


def conclusions(variants: list[dict]) -> list[str]:
    """Sentences computed from the variants' numbers."""
    scored = [v for v in variants if v["psnr_mean"] is not None]
    if not scored:
        return ["No fit of this study has a ground truth, so no variant can be scored."]
    base = next((v for v in scored if v["id"] == "base"), scored[0])
    best = max(scored, key=lambda v: v["psnr_mean"])
    worst = min(scored, key=lambda v: v["psnr_mean"])
    n_images = len(best["images"])
    out = []
    if len(scored) == 1:
        out.append(f"Only one variant was scored: {best['label']} reaches {best['psnr_mean']:.2f} dB "
                   f"on average over {n_images} image{'s' if n_images != 1 else ''}.")
    elif best is base:
        out.append(f"The base settings win: {base['psnr_mean']:.2f} dB on average over {n_images} "
                   f"image{'s' if n_images != 1 else ''}; the closest variant, "
                   f"{_runner_up(scored, base)['label']}, is "
                   f"{base['psnr_mean'] - _runner_up(scored, base)['psnr_mean']:.2f} dB lower.")
    else:
        out.append(f"{best['label']} wins: {best['psnr_mean']:.2f} dB on average over {n_images} "
                   f"image{'s' if n_images != 1 else ''}, {best['psnr_mean'] - base['psnr_mean']:+.2f} dB "
                   f"against the base ({base['psnr_mean']:.2f} dB).")
    if len(scored) > 2 and worst is not best:
        out.append(f"The weakest is {worst['label']} at {worst['psnr_mean']:.2f} dB, "
                   f"{worst['psnr_mean'] - best['psnr_mean']:+.2f} dB from the best.")
    other = _runner_up(scored, best) if best is base else base
    if len(scored) > 1:
        out.append(_spread_sentence(best, other, _seeds(scored)))
    gains = [(v["best_psnr"] - v["final_psnr"], v) for v in scored
             if v["best_psnr"] is not None and v["final_psnr"] is not None]
    if gains:
        gain, v = max(gains, key=lambda g: g[0])
        mean_gain = mean(g for g, _ in gains)
        if gain < 0.005:
            out.append("Stopping early would gain nothing: every variant's PSNR is highest at its "
                       "last iteration.")
        else:
            out.append(f"Stopping at the best iteration instead of the last would gain "
                       f"{mean_gain:.2f} dB on average over the variants, most for {v['label']} "
                       f"({gain:.2f} dB).")
    out += _stopping_sentences(scored)
    return out


def _stopping_sentences(scored: list[dict]) -> list[str]:
    """How the ground-truth-free stop compares with the paper's output and the oracle peak."""
    kept = [v for v in scored if v["es_psnr"] is not None]
    if not kept:
        return []
    es, ours = mean(v["es_psnr"] for v in kept), mean(v["psnr_mean"] for v in kept)
    text = (f"Stopped without the ground truth (ES-WMV), the variants reach {es:.2f} dB on average, "
            f"{es - ours:+.2f} dB against the paper's output")
    peaks = [v for v in kept if v["best_psnr"] is not None]
    if peaks:
        gap = mean(v["best_psnr"] - v["es_psnr"] for v in peaks)
        early, late = sum(v["es_early"] for v in peaks), sum(v["es_late"] for v in peaks)
        fits = sum(v["fits"] for v in peaks)
        text += (f" and {gap:.2f} dB below the traced peak (an oracle); it stopped before the peak in "
                 f"{early} of {fits} fits and after it in {late}")
    return [text + "."]


def _runner_up(scored: list[dict], winner: dict) -> dict:
    return max((v for v in scored if v is not winner), key=lambda v: v["psnr_mean"])


def _spread_sentence(a: dict, b: dict, seeds: int) -> str:
    """Whether a's per-image lead over b exceeds the spread over seeds."""
    if seeds < 2:
        return (f"With one seed per fit no spread over seeds is known, so it cannot be said whether "
                f"the difference between {a['label']} and {b['label']} exceeds chance.")
    rows_b = {r["image"]: r for r in b["images"]}
    beyond, total = 0, 0
    for r in a["images"]:
        other = rows_b.get(r["image"])
        if other is None or r["psnr_mean"] is None or other["psnr_mean"] is None:
            continue
        total += 1
        spread = max(r["psnr_std"] or 0.0, other["psnr_std"] or 0.0)
        beyond += abs(r["psnr_mean"] - other["psnr_mean"]) > spread
    return (f"On {beyond} of {total} image{'s' if total != 1 else ''} the difference between "
            f"{a['label']} and {b['label']} exceeds the standard deviation over {seeds} seeds.")


HEADERS = ["variant", "image", "PSNR (dB)", "SSIM", "final PSNR (trace)", "stopped without ground truth",
           "peak during the fit (oracle)", "peak − stopped"]


def table_rows(summary: dict) -> list[list[str]]:
    """One row per variant and image, then the variant's mean over images."""
    rows = []
    for v in summary["variants"]:
        for r in v["images"]:
            image = r["image"] + (f" (missing: {', '.join(r['missing'])})" if r.get("missing") else "")
            if not r["seeds"]:
                rows.append([v["label"], image, "missing", "missing", "–", "–", "–", "–"])
                continue
            rows.append([v["label"], image, pm(r["psnr_mean"], r["psnr_std"], missing="unavailable"),
                         pm(r["ssim_mean"], r["ssim_std"], missing="unavailable"),
                         number(r["final_psnr"]), psnr_at(r["es_psnr"], r["es_iteration"]),
                         psnr_at(r["best_psnr"], r["best_iteration"]), _gap(r["best_psnr"], r["es_psnr"])])
        if len(v["images"]) > 1:
            having = sum(r["psnr_mean"] is not None for r in v["images"])
            lacking = any(not r["seeds"] for r in v["images"])
            label = f"mean ({having} of {len(v['images'])} images)" if lacking else "mean"
            rows.append([v["label"], label, number(v["psnr_mean"]), number(v["ssim_mean"], 3),
                         number(v["final_psnr"]), number(v["es_psnr"]), number(v["best_psnr"]),
                         _gap(v["best_psnr"], v["es_psnr"])])
    return rows


def _gap(peak: float | None, stopped: float | None) -> str:
    return "–" if peak is None or stopped is None else f"{peak - stopped:.2f}"


def to_markdown(summary: dict) -> str:
    lines = [f"## Study: {summary['experiment']}", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(summary)]
    lines += [""] + [f"- {c}" for c in summary["conclusions"]]
    return "\n".join(lines) + "\n"
