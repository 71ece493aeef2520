"""All grades of one competition in one CSV (Snakemake script)."""

import sys

from mlepipe.reports.summary import load_grades, per_competition

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")
per_competition(load_grades(sm.input.grades)).to_csv(sm.output.table, index=False)
