"""The paired comparison of two agents from grade records (Snakemake script): CSV, Markdown and
HTML (mlepipe.reports.tables)."""

import sys

from mlepipe.reports.stats import Bootstrap
from mlepipe.reports.summary import load_grades
from mlepipe.reports.tables import write_comparison

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")

settings = sm.params.settings
write_comparison(
    load_grades(sm.input.grades),
    sm.wildcards.agent_a,
    sm.wildcards.agent_b,
    dict(sm.output.items()),
    settings["missing_seeds"],
    Bootstrap.from_config(settings["bootstrap"]),
)
