"""Anytime grading through `snakemake` on real Kaggle data (spaceship-titanic from
../shared/kaggle-mirror) with MLE-bench's official thresholds: a scripted agent improves its
submission on a schedule (tests/agents_anytime/improver.py); the harness keeps each version,
grading scores them after the run, and the medal-at-T table and best-so-far curves follow.
Every expected value is worked out here from the agent's own copies and the thresholds file.
Skipped, with a message, where the reference folder is absent."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from mlepipe.grading.report import score_submission
from mlepipe.registry import Registry
from pipeline import REPO, Workflow, needs_bubblewrap_and_mirror

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = needs_bubblewrap_and_mirror()

COMPETITION = "spaceship-titanic"
LIMIT = 120
# T = 0.72 s (before any version), 7.2 s (after the second), 60 s and 120 s (after the third).
GRID = {"hours": [0.0002, 0.002], "fractions": [0.5, 1.0]}
# Between the agent writing a version and the harness's look that sees it: up to one interval
# of looks (1 s) plus the sandbox's start before the agent's clock starts.
LAG = 2.5


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("anytime")
    agents = {
        "improver": {"kind": "command", "command": "python /home/agent/improver.py",
                     "code_dir": str(REPO / "tests" / "agents_anytime")},
    }  # fmt: skip
    config = {
        "competitions": [COMPETITION], "agents": ["improver"], "hardware": ["anytime"],
        "seeds": [0, 1], "data_dir": str(root / "data"),
        "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        "medal_at_time": GRID,
    }  # fmt: skip
    hardware = {"anytime": {"cpus": 1, "memory_gb": 3, "time_limit": LIMIT}}
    workflow = Workflow(root, config, agents=agents, hardware=hardware, own_code=True)
    workflow.snakemake(timeout=900)
    return workflow


@pytest.fixture(scope="module")
def thresholds():
    table = pd.read_csv(SHARED / "mlebench-reference" / "thresholds.csv")
    return table[table.competition_id == COMPETITION].iloc[0].to_dict()


def medal(score, t) -> str:
    for name in ("gold", "silver", "bronze"):
        if score is not None and score >= t[f"{name}_threshold"]:  # accuracy: higher is better
            return name
    return "none"


def run_dir(wf, seed):
    return wf.results / "runs" / "improver" / "anytime" / COMPETITION / str(seed)


def test_each_version_is_kept_and_graded_after_the_run(wf, thresholds):
    competition = Registry().get(COMPETITION)
    grades = wf.grades()
    for seed, versions in ((0, 3), (1, 2)):
        folder = run_dir(wf, seed)
        run = wf.runs()[("improver", "anytime", COMPETITION, seed)]
        assert run["status"] == "ok" and run["snapshots"]["versions"] == versions
        assert run["snapshots"]["skipped"] == 0 and run["snapshots"]["ignored"] == 0
        schedule = [
            json.loads(x) for x in (folder / "logs/schedule.jsonl").read_text().splitlines()
        ]
        timeline = grades[("improver", "anytime", COMPETITION, seed)]["timeline"]
        assert len(timeline) == len(schedule) == versions
        for entry, written in zip(timeline, schedule, strict=True):
            copy = folder / "logs" / f"v{written['version']}.csv"
            assert entry["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
            score, reason = score_submission(copy, competition, wf.root / "data")["mlebench"]
            assert reason is None and entry["score"] == score and entry["valid"]
            assert entry["medal"] == medal(score, thresholds)
            assert entry["any_medal"] == (entry["medal"] != "none")
            assert written["elapsed_s"] <= entry["elapsed_s"] <= written["elapsed_s"] + LAG
        # The schedule: the sample, then the rule, then (even seeds) the model, each better.
        scores = [e["score"] for e in timeline]
        assert scores == sorted(scores) and len(set(scores)) == versions
        assert [e["medal"] for e in timeline][:2] == ["none", "none"]
        # The last version is the final submission, graded as before.
        grade = grades[("improver", "anytime", COMPETITION, seed)]
        assert grade["score"] == timeline[-1]["score"]
        assert grade["any_medal"] == timeline[-1]["any_medal"]
    assert grades[("improver", "anytime", COMPETITION, 0)]["timeline"][-1]["any_medal"]


def test_the_agent_saw_neither_its_snapshots_nor_any_score(wf):
    for seed in (0, 1):
        folder = run_dir(wf, seed)
        assert (folder / "snapshots" / "snapshots.jsonl").is_file()
        assert (folder / "logs" / "found.txt").read_text() == ""


def test_medal_at_time_against_hand_computed_values(wf):
    table = pd.read_csv(wf.results / "reports" / "medal_at_time.csv")
    rows = table[(table.agent == "improver") & (table.split == "all")]
    got = {
        r["t_label"]: (r["t_seconds"], r["any_medal_pct"], r["any_medal_pct_sem"], r["valid_pct"])
        for r in rows.to_dict("records")
    }
    # Seed 0 medals from its third version on, seed 1 never: 100 and 0 per seed, so 50 ± 50.
    expected = {
        "0.0002 h": (0.72, 0.0, 0.0, 0.0),
        "0.002 h": (7.2, 0.0, 0.0, 100.0),
        "0.5 of the limit": (60.0, 50.0, 50.0, 100.0),
        "1 of the limit": (120.0, 50.0, 50.0, 100.0),
    }
    assert set(got) == set(expected)
    for label, values in expected.items():
        assert got[label] == pytest.approx(values), label
    md = (wf.results / "reports" / "medal_at_time.md").read_text()
    assert "50.0 ± 50.0" in md
    assert "<table>" in (wf.results / "reports" / "medal_at_time.html").read_text()


def test_best_so_far_curves(wf):
    curves = pd.read_csv(wf.results / "reports" / "best_so_far.csv")
    grades = wf.grades()
    for seed in (0, 1):
        mine = curves[curves.seed == seed].sort_values("elapsed_s")
        timeline = grades[("improver", "anytime", COMPETITION, seed)]["timeline"]
        assert list(mine["best_score"]) == [
            max(e["score"] for e in timeline[: i + 1]) for i in range(len(timeline))
        ]
    svg = (wf.results / "reports" / "best_so_far.svg").read_text()
    assert svg.startswith("<svg") and COMPETITION in svg
    assert "vegaEmbed" in (wf.results / "reports" / "best_so_far.html").read_text()
