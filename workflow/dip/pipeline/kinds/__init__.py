"""The report kinds: what an experiment's ``report:`` word builds, one module per kind.

Every kind module has the same parts, read by the rules, by a target's report and by the
partial report, which loop over kinds and never branch on one:

- ``NAME``: the config's word; ``COMMAND``: the `dip` subcommand that builds the kind's own
  files (None: it builds nothing);
- ``outputs(plan, name)``: every file the kind shows for the experiment, by role: its own, and
  the curves and snapshots it shows beside them;
- ``inputs(plan, name)`` and ``args(plan, name)``: what its command reads, and its arguments
  (without the output files);
- ``published(plan, name)``: the registry files it compares with, downloaded with the inputs;
- ``check(plan, name)``: refuses, while planning, an experiment the kind cannot show;
- ``partial(plan, part, name, gone, files)``: its command lines when some of the experiment's
  fits are missing (``part``: the plan without them), or none where it has no partial form.
"""

from __future__ import annotations

from . import figure, none, paper_table, section, study

KINDS = {kind.NAME: kind for kind in (paper_table, figure, section, study, none)}


def of(plan, name: str):
    """The kind module of an experiment."""
    return KINDS[plan.experiment(name).kind]
