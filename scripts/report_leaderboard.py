"""MLE-bench's leaderboard material from grade records (Snakemake script): grading reports in
its run-group layout and the README's table (mlepipe.reports.leaderboard)."""

import json
import shutil
import sys
from pathlib import Path

from mlepipe.reports.leaderboard import export_leaderboard

sm = snakemake  # noqa: F821 (injected by Snakemake)
sys.stderr = open(sm.log[0], "w")

out = Path(sm.output.table).parent
shutil.rmtree(sm.output.runs, ignore_errors=True)  # no run group left from earlier grades
records = [json.loads(Path(p).read_text()) for p in sm.input.grades]
reports, _ = export_leaderboard(records, out, sm.params.hardware, sm.params.missing_seeds)
print(f"{len(reports)} grading reports under {sm.output.runs}", file=sys.stderr)
