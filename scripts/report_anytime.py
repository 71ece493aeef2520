"""Anytime results from the grades' timelines (Snakemake script): the medal rate at elapsed time
T per agent, hardware and split, and each competition's best score so far
(mlepipe.reports.anytime)."""

import sys

from mlepipe.reports.anytime import write_anytime

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")

grid = sm.params.grid
table = write_anytime(
    sm.input.grades,
    dict(sm.output.items()),
    {name: spec["time_limit_seconds"] for name, spec in sm.params.hardware.items()},
    grid.get("hours"),
    grid["fractions"],
    sm.params.settings["missing_seeds"],
)
print(f"{len(sm.input.grades)} grades -> {len(table)} medal-at-T rows", file=sys.stderr)
