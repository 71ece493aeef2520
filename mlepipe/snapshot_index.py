"""Where a run's submission snapshots lie, and their index: what the harness writes
(mlepipe.harness.snapshots) and grading reads (mlepipe.grading.report.grade_timeline).

A module of its own, so that grading depends on the format only, not on the harness's code:
editing the watcher regrades nothing.

``<run_dir>/snapshots/snapshots.jsonl``: one JSON line per version, in the order seen,
``{"elapsed_s", "sha256", "bytes", "file"}``; ``file`` names the copy in the same folder (one
per distinct content).
"""

from __future__ import annotations

import json
from pathlib import Path

SNAPSHOTS_DIR = "snapshots"
INDEX = "snapshots.jsonl"


def read_index(run_dir: Path) -> list[dict]:
    """The versions of a run's snapshots in order (none where the run has no snapshots)."""
    path = Path(run_dir) / SNAPSHOTS_DIR / INDEX
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
