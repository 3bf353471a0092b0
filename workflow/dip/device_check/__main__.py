"""Runs the device check (see the package's docstring): python -m dip.device_check."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .common import REPO, TOY, Clock, Scale, fetch, say
from .fits import sharing, table1
from .probe import bench, environment, gpu_tests, speeds
from .summary import markdown, pack_fits, write_summary


STEPS = ("environment", "gpu_tests", "bench", "sharing", "table1")


def run_check(out: Path, budget: float, data_dir: Path, toy: bool, work: Path | None = None,
              skip: tuple[str, ...] = ()) -> dict:
    import torch

    clock = Clock(budget)
    scale = TOY if toy else Scale()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(work or tempfile.mkdtemp(prefix="device-check-"))
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"budget_s": budget, "toy": toy, "steps": {}, "not_measured": []}
    missing = summary["not_measured"]

    def step(name: str, fn, *args):
        if name in skip:
            missing.append(f"{name}: skipped on request (--skip)")
            summary["steps"][name] = {"skipped": "on request"}
            return {}
        say(f"{name} ({clock.used():.0f} s used of {budget:.0f})")
        t0 = time.monotonic()
        try:
            result = fn(*args)
        except Exception as exc:  # one step's failure must not cost the others their minutes
            result = {"error": f"{type(exc).__name__}: {exc}"}
            missing.append(f"{name}: failed: {result['error']}")
        result["seconds"] = round(time.monotonic() - t0, 1)
        summary["steps"][name] = result
        write_summary(out, summary, clock)
        return result

    env = step("environment", environment, device)
    if device.type != "cuda":
        missing.append("everything on a GPU: no CUDA device here "
                       f"({env.get('cpu')}, torch {env.get('torch')})")
    tests_share, bench_share, sharing_share = scale.shares
    tests = step("gpu_tests", gpu_tests, clock, tests_share * budget)
    if tests.get("returncode") or "status" in tests:  # failures, or timed out
        missing.append(f"gpu_tests: {tests.get('result') or tests.get('status')}")
    b = step("bench", bench, device, scale, clock, bench_share * budget)
    missing += [f"bench {s}: not enough budget left" for s in b.get("skipped", [])]
    if b.get("share_of_peak"):
        missing.append(f"bench share of peak: {b['share_of_peak']}")
    speed = speeds(b, device)
    share = step("sharing", sharing, device, scale, data_dir, work, clock, sharing_share * budget,
                 speed.get(("fast", scale.sharing_size)))
    missing += [f"sharing {s}: not enough budget left" for s in share.get("skipped", [])]
    k = share.get("best_k", 1)
    gain = share.get("k", {}).get(str(k), {}).get("throughput_vs_one", 1.0)

    def partial(result: dict) -> None:  # each finished fit reaches the summary at once
        summary["steps"]["table1"] = result
        write_summary(out, summary, clock)

    fits = step("table1", table1, device, scale, data_dir, work, clock, speed, k, k / gain, partial)
    missing += [f"table1 {s['image']} ({s['precision']}): not run, {s['why']}"
                for s in fits.get("not_run", [])]
    missing += [f"table1 {r['image']} ({r['precision']}): {r['status']} at iteration "
                f"{r.get('reached_iteration')}" for r in fits.get("fits", []) if r["status"] != "done"]
    pack_fits(work, out)
    write_summary(out, summary, clock)
    say(f"done in {clock.used():.0f} s of {budget:.0f}")
    print(markdown(summary), flush=True)
    return summary



def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dip.device_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="folder for summary.json, summary.md, fits.tar.gz")
    p.add_argument("--budget", type=float, default=480.0, help="seconds in all (default 480)")
    p.add_argument("--data", type=Path, default=REPO / ".device-data",
                   help="the Table-1 images, as --fetch leaves them")
    p.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    p.add_argument("--toy", action="store_true",
                   help="the same steps at toy size (64² crops, a few iterations)")
    p.add_argument("--skip", action="append", default=[], choices=STEPS[1:], metavar="STEP",
                   help=f"leave out a step (repeatable): {', '.join(STEPS[1:])}")
    p.add_argument("--fetch", type=Path, metavar="DIR", help="only fetch the images into DIR")
    args = p.parse_args(argv)
    if args.fetch:
        fetch(args.fetch)
        return 0
    if args.out is None:
        p.error("--out is required")
    run_check(args.out, args.budget, args.data, args.toy, args.work, tuple(args.skip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
