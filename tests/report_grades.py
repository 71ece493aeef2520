"""Grade records for report tests, made by the grader's own `build_report` from real competition
definitions, with the run fields a pipeline grade carries."""

from __future__ import annotations

import json
from pathlib import Path

from mlepipe.grading.medals import Thresholds
from mlepipe.grading.report import build_report
from mlepipe.registry import Registry

REGISTRY = Registry()


def thresholds(gold, silver, bronze, median, lower_is_better=False) -> Thresholds:
    return Thresholds(gold, silver, bronze, median, lower_is_better, source="test table")


def record(
    cid: str,
    score: float | None,
    t: Thresholds | None = None,
    *,
    agent: str = "agent-a",
    hardware: str = "cpu-small",
    seed: int = 0,
    status: str = "ok",
    reason: str | None = None,
    splits: tuple[str, ...] | None = None,
    corrected: float | None | str = "same",
    variant: str = "mlebench",
) -> dict:
    """`score` is the mlebench variant's, `corrected` the corrected variant's (default the same);
    `variant` the headline."""
    comp = REGISTRY.get(cid)
    where = Path("results/runs") / agent / hardware / cid / str(seed) / "submission.csv"
    corrected_score = score if corrected == "same" else corrected
    verdicts = {
        "mlebench": (score, reason if score is None else None),
        "corrected": (corrected_score, (reason or "invalid") if corrected_score is None else None),
    }
    out = build_report(comp, where, score is not None, verdicts, t, variant).to_dict()
    out.update(
        agent=agent, agent_version="test", hardware=hardware, seed=seed, run_status=status,
        runner="bubblewrap", sandboxed=True, wall_seconds=1.5,
        splits=list(splits if splits is not None else comp.splits),
    )  # fmt: skip
    return out


def write(records: list[dict], results: Path) -> list[Path]:
    """Grade JSONs where the pipeline puts them: results/grades/<agent>/<hw>/<id>/<seed>.json."""
    paths = []
    for r in records:
        path = results / "grades" / r["agent"] / r["hardware"] / r["competition_id"]
        path = path / f"{r['seed']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r))
        paths.append(path)
    return paths
