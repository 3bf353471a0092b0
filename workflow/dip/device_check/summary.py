"""The check's summary (JSON and Markdown) and the packed files of its fits."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from .common import Clock


def pack_fits(work: Path, out: Path) -> None:
    names = ("output.png", "trace.csv", "meta.json", "metrics.json")
    with tarfile.open(out / "fits.tar.gz", "w:gz") as tar:
        for fit in sorted((work / "fits").glob("*")):
            if fit.is_dir():
                for n in names:
                    if (fit / n).is_file():
                        tar.add(fit / n, arcname=f"{fit.name}/{n}")
            elif fit.suffix == ".log":
                tar.add(fit, arcname=fit.name)


def write_summary(out: Path, summary: dict, clock: Clock) -> None:
    summary["budget_used_s"] = round(clock.used(), 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out / "summary.md").write_text(markdown(summary))


def markdown(s: dict) -> str:
    steps = s["steps"]
    env = steps.get("environment", {})
    lines = [f"# Device check{' (toy run on the CPU)' if s['toy'] else ''}", "",
             f"Budget {s['budget_s']:.0f} s, used {s.get('budget_used_s', 0):.0f} s.", "",
             "## Environment", ""]
    lines += [f"- {k}: {v}" for k, v in env.items() if k != "seconds"]
    tests = steps.get("gpu_tests", {})
    lines += ["", "## GPU tests", "", f"`pytest -m gpu`: {tests.get('result') or tests.get('status') or tests.get('error') or tests.get('skipped')}"]
    b = steps.get("bench", {})
    for size, rows in b.get("sizes", {}).items():
        lines += ["", f"## Training step, table1 net, {size}²", "",
                  "| path | s/it | GFLOP/s | share of peak | vs fp32 eager | peak MB | warm-up s |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            share = f"{100 * r['share_of_peak']:.1f} %" if "share_of_peak" in r else "–"
            lines.append(f"| {r['path']}{', TF32' if r.get('tf32') else ''} | {r['s_per_iter']:.4f} | "
                         f"{r['gflop_per_s']:.0f} | {share} | {r['ratio_to_fp32_eager']:.2f}x | "
                         f"{r['peak_mem_mb']:.0f} | {r['warmup_s']:.1f} |")
    sh = steps.get("sharing", {})
    if sh.get("k"):
        lines += ["", f"## Fits sharing one device ({sh['image']}, {sh['iterations']} iterations, fast)",
                  "", "| k | it/s each | it/s total | vs one | peak GPU MB |", "|---|---|---|---|---|"]
        for k, r in sh["k"].items():
            lines.append(f"| {k} | {', '.join(f'{x:.1f}' for x in r['it_per_s_each'])} | "
                         f"{r['it_per_s_total']:.1f} | {r.get('throughput_vs_one', '–')} | "
                         f"{', '.join(str(m) for m in r['peak_gpu_memory_mb'])} |")
    t1 = steps.get("table1", {})
    if t1.get("fits") is not None:
        lines += ["", f"## Table 1, seed 0, {t1['iterations']} iterations, {t1['at_once']} at once",
                  "", "| image | precision | status | PSNR | paper | published output | clean | "
                  "average | it/s | wall s | peak GPU MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in t1["fits"]:
            psnr = r.get("psnr", r.get("psnr_at_stop"))
            cells = [r["image"], r["precision"], r["status"], psnr, r["paper_psnr"],
                     r["published_output_psnr"], r.get("psnr_clean"), r.get("psnr_ema"),
                     r.get("it_per_s"), r["wall_s"], r.get("peak_gpu_memory_mb")]
            lines.append("| " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    lines += ["", "## Not measured, and why", ""]
    lines += [f"- {m}" for m in s["not_measured"]] or ["- nothing"]
    return "\n".join(lines) + "\n"


