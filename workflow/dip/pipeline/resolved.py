"""The configuration as it runs: each experiment with its mode applied, its variants' settings
and the fits it reads (written to run_config.json and shown in the report)."""

from __future__ import annotations

from .plan import Plan


def resolved(plan: Plan) -> dict:
    config = plan.config
    out = {k: v for k, v in config.items() if k not in ("experiments", "data")}
    out["experiments"] = {}
    for name, exp in plan.experiments.items():
        slots = plan.slots_of(name)
        jobs = {s.variant: plan.fits[s.fit] for s in slots if s.experiment == name}
        out["experiments"][name] = {
            **exp.config,
            "report": exp.kind,
            "images": [r.id for r in exp.images],
            "seeds": exp.seeds,
            "iterations": sorted({j.iterations for j in jobs.values()})[0] if jobs else None,
            "snapshots": next(iter(jobs.values())).snapshots if jobs else [],
            "variants": {v.id: {"label": v.label, "settings": jobs[v.id].settings}
                         for v in exp.variants if v.id in jobs},
            "fits": [f"{s.experiment}/{s.variant}/{s.image}/{s.seed} -> {s.fit.out_dir}" for s in slots],
        }
    return out
