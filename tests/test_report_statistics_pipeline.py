"""The report statistics through `snakemake` on real Kaggle data (../shared/kaggle-mirror) with
MLE-bench's thresholds: the bootstrap interval, pass@k, the category breakdown, the paired
comparison and the leaderboard export exist and follow from the grades. Skipped, with a
message, where the mirror is absent."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from mlepipe.grading.report import MLEBENCH_FIELDS
from pipeline import Workflow, needs_bubblewrap_and_mirror

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = needs_bubblewrap_and_mirror()

# A dev competition (no MLE-bench category recorded) and a Lite one (Text Classification).
COMPETITIONS = ["spaceship-titanic", "detecting-insults-in-social-commentary"]
AGENTS = ["dummy", "baseline"]
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("stats")
    config = {
        "competitions": COMPETITIONS, "agents": AGENTS, "hardware": ["cpu-small"],
        "seeds": SEEDS, "data_dir": str(root / "data"),
        "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        "compare": [["baseline", "dummy"]], "bootstrap": {"resamples": 500},
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 3, "time_limit": "5m"}}
    workflow = Workflow(root, config, hardware=hardware, own_code=True)
    workflow.snakemake(timeout=1200)
    return workflow


def medal_rate(grades: dict, agent: str, cid: str) -> float:
    runs = [g["any_medal"] for k, g in grades.items() if k[0] == agent and k[2] == cid]
    assert len(runs) == len(SEEDS)
    return sum(runs) / len(runs)


def test_summary_and_categories_follow_from_the_grades(wf):
    grades = wf.grades()
    reports = wf.results / "reports"
    summary = pd.read_csv(reports / "summary.csv")
    for agent in AGENTS:
        row = summary.query(f"agent == '{agent}' and split == 'all'").iloc[0]
        assert row.missing_runs == 0 and row.missing_seeds == "pad"
        rates = [medal_rate(grades, agent, c) for c in COMPETITIONS]
        # pass@1 = mean of c/n; pass@2 with n = 2: 1 wherever a competition medalled at all
        assert row["pass@1_pct"] == pytest.approx(100 * sum(rates) / len(rates))
        assert row["pass@2_pct"] == pytest.approx(100 * sum(r > 0 for r in rates) / len(rates))
        assert row.any_medal_ci_low <= row.any_medal_pct <= row.any_medal_ci_high
        assert 0 <= row.any_medal_ci_low and row.any_medal_ci_high <= 100
    assert (
        "bootstrap percentile interval at 95%, 500 resamples"
        in (reports / "summary.md").read_text()
    )
    categories = pd.read_csv(reports / "by_category.csv")
    text = categories.query("agent == 'baseline' and category == 'Text Classification'").iloc[0]
    assert text.competitions == 1
    assert text.any_medal_pct == pytest.approx(
        100 * medal_rate(grades, "baseline", "detecting-insults-in-social-commentary")
    )
    assert set(categories.category) == {"Text Classification", "none given"}


def test_comparison_follows_from_the_grades(wf):
    grades = wf.grades()
    table = pd.read_csv(wf.results / "reports" / "compare" / "baseline_vs_dummy.csv")
    row = table.query("split == 'all'").iloc[0]
    diffs = [medal_rate(grades, "baseline", c) - medal_rate(grades, "dummy", c)
             for c in COMPETITIONS]  # fmt: skip
    assert row.competitions == 2
    assert row.mean_difference_pct == pytest.approx(100 * sum(diffs) / 2)
    assert (row.wins, row.losses) == (sum(d > 0 for d in diffs), sum(d < 0 for d in diffs))
    html = (wf.results / "reports" / "compare" / "baseline_vs_dummy.html").read_text()
    assert "Per competition (split all)" in html


def test_leaderboard_export_in_mlebench_layout(wf):
    grades = wf.grades()
    out = wf.results / "reports" / "leaderboard"
    reports = sorted((out / "runs").glob("*/*_grading_report.json"))
    assert sorted(p.parent.name for p in reports) == sorted(
        f"{a}_cpu-small_seed{s}" for a in AGENTS for s in SEEDS
    )
    for path in reports:
        agent, seed = re.fullmatch(r"(.+)_cpu-small_seed(\d+)", path.parent.name).groups()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-UTC_grading_report\.json", path.name)
        report = json.loads(path.read_text())
        assert report["total_runs"] == len(COMPETITIONS)
        for entry in report["competition_reports"]:
            assert tuple(entry) == MLEBENCH_FIELDS
            g = grades[agent, "cpu-small", entry["competition_id"], int(seed)]
            assert entry == {f: g[f] for f in MLEBENCH_FIELDS}
        assert report["total_medals"] == sum(e["any_medal"] for e in report["competition_reports"])
    experiments = (out / "runs" / "run_group_experiments.csv").read_text().splitlines()
    assert experiments[0] == "experiment_id,run_group" and len(experiments) == 1 + len(reports)
    table = (out / "leaderboard.md").read_text()
    baseline = next(x for x in table.splitlines() if x.startswith("| baseline |"))
    rate = 100 * medal_rate(grades, "baseline", "detecting-insults-in-social-commentary")
    assert f"| {rate:.2f} ± " in baseline and "(1 of 22 competitions)" in baseline
    assert "| 0.0833333 | 1 CPUs, 3 GB RAM | 2 | 0 |" in baseline  # 5 minutes, in hours
