"""The headline figure through `snakemake` on real Kaggle data (../shared/kaggle-mirror) with
MLE-bench's official thresholds, then with the private leaderboards: every grade's medal is
checked against the thresholds, and the summary against the grades. Skipped, with a message,
where the reference folder is absent."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from mlepipe.grading.medals import thresholds_from_leaderboard
from pipeline import REPO, Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

SHARED = REPO.parent / "shared"
if not (SHARED / "kaggle-mirror").is_dir():
    pytest.skip(
        f"no Kaggle mirror at {SHARED / 'kaggle-mirror'} (optional)", allow_module_level=True
    )

# Small real competitions: a dev one (spaceship), one with its own prepare.py (nomad2018) and one
# with its own grade.py (detecting-insults).
COMPETITIONS = [
    "spaceship-titanic",
    "nomad2018-predict-transparent-conductors",
    "detecting-insults-in-social-commentary",
]
AGENTS = ["dummy", "baseline"]
SEEDS = [0, 1]
HARDWARE = {"cpu-small": {"cpus": 1, "memory_gb": 3, "time_limit": "5m"}}
RUNS = len(COMPETITIONS) * len(AGENTS) * len(SEEDS)


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    config = {
        "competitions": COMPETITIONS, "agents": AGENTS, "hardware": ["cpu-small"],
        "seeds": SEEDS, "data_dir": str(root / "data"),
        "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
    }  # fmt: skip
    workflow = Workflow(root, config, hardware=HARDWARE, own_code=True)
    workflow.snakemake(timeout=1200)
    return workflow


def expected_medal(score: float | None, t: dict) -> str:
    """The medal a score earns, worked out here from the thresholds (ties earn the medal)."""
    if score is None:
        return "none"
    for name in ("gold", "silver", "bronze"):
        bound = t[f"{name}_threshold"]
        if (score <= bound) if t["is_lower_better"] else (score >= bound):
            return name
    return "none"


def medal_of(grade: dict) -> str:
    return next((m for m in ("gold", "silver", "bronze") if grade[f"{m}_medal"]), "none")


def check_grades(grades: dict, thresholds: dict[str, dict]) -> None:
    assert len(grades) == RUNS
    for key, g in grades.items():
        t = thresholds[g["competition_id"]]
        for name in ("gold", "silver", "bronze", "median"):
            assert g[f"{name}_threshold"] == pytest.approx(t[f"{name}_threshold"]), key
        assert g["is_lower_better"] == t["is_lower_better"], key
        assert g["valid_submission"] and g["run_status"] == "ok", (key, g["invalid_reason"])
        assert medal_of(g) == expected_medal(g["score"], t), (key, g["score"], t)
        assert g["any_medal"] == (medal_of(g) != "none")
        median = t["median_threshold"]
        above = g["score"] < median if t["is_lower_better"] else g["score"] > median
        assert g["above_median"] == above, key


def check_summary(wf: Workflow, grades: dict) -> None:
    summary = pd.read_csv(wf.results / "reports" / "summary.csv")
    for agent in AGENTS:
        row = summary[(summary.agent == agent) & (summary.split == "all")].iloc[0]
        per_seed = [
            sum(g["any_medal"] for k, g in grades.items() if k[0] == agent and k[3] == s)
            / len(COMPETITIONS)
            * 100
            for s in SEEDS
        ]
        assert row["competitions"] == len(COMPETITIONS) and row["seeds"] == len(SEEDS)
        assert row["medal_competitions"] == len(COMPETITIONS)
        assert row["any_medal_pct"] == pytest.approx(sum(per_seed) / len(SEEDS))


def test_medals_from_the_official_thresholds(wf):
    table = pd.read_csv(SHARED / "mlebench-reference" / "thresholds.csv")
    thresholds = {r["competition_id"]: r for r in table.to_dict("records")}
    grades = wf.grades()
    check_grades(grades, thresholds)
    # The baseline medals on real competitions (spaceship-titanic: silver when graded by hand).
    assert any(g["any_medal"] for k, g in grades.items() if k[0] == "baseline")
    check_summary(wf, grades)


def test_medals_from_the_leaderboards_directory_regrade_only(wf, tmp_path):
    # One leaderboard in the Kaggle API's column layout, the others as rank,score.
    boards = tmp_path / "leaderboards"
    boards.mkdir()
    for cid in COMPETITIONS:
        shutil.copy(SHARED / "mlebench-reference" / "leaderboards" / f"{cid}.csv", boards)
    api = pd.read_csv(boards / "spaceship-titanic.csv")
    api = pd.DataFrame({"teamId": range(1000, 1000 + len(api)), "teamName": "t",
                        "submissionDate": "2024-01-01", "score": api["score"]})  # fmt: skip
    api.to_csv(boards / "spaceship-titanic.csv", index=False)
    runs_before = wf.mtimes("runs/*/*/*/*/run.json")
    wf.config["leaderboards"] = str(boards)
    wf.write_yaml("config/config.yaml", wf.config)
    jobs = jobs_planned(wf.snakemake("-n"))
    assert "run_agent" not in jobs and "prepare_competition" not in jobs
    assert jobs["grade_run"] == RUNS
    wf.snakemake(timeout=600)
    assert wf.mtimes("runs/*/*/*/*/run.json") == runs_before
    thresholds = {}
    for cid in COMPETITIONS:
        t = thresholds_from_leaderboard(boards / f"{cid}.csv")
        thresholds[cid] = {
            f"{n}_threshold": getattr(t, n) for n in ("gold", "silver", "bronze", "median")
        }
        thresholds[cid]["is_lower_better"] = t.lower_is_better
    grades = wf.grades()
    check_grades(grades, thresholds)
    assert all(g["thresholds_source"].startswith("leaderboard:") for g in grades.values())
    check_summary(wf, grades)


def test_every_preparation_was_verified_against_mlebench(wf):
    for cid in COMPETITIONS:
        record = yaml.safe_load((wf.root / "data" / cid / "checksums.yaml").read_text())
        assert record["reference_check"]["status"] == "verified", cid


def test_editing_the_reference_checksums_prepares_nothing_again(wf):
    # They decide whether a preparation is accepted, not what it writes.
    with wf.edited("competitions/spaceship-titanic/reference_checksums.yaml"):
        jobs = jobs_planned(wf.snakemake("-n"))
    assert jobs == {}


def test_editing_a_grader_regrades_that_competition_only(wf):
    with wf.edited("competitions/detecting-insults-in-social-commentary/grade.py"):
        jobs = jobs_planned(wf.snakemake("-n"))
    assert set(jobs) == {"grade_run", "competition_table", "report_tables", "report_charts", "all"}
    assert jobs["grade_run"] == len(AGENTS) * len(SEEDS)


def test_repreparing_reuses_the_extracted_zip(wf):
    raw = wf.root / "data" / "spaceship-titanic" / "raw"
    before = {p.name: p.stat().st_mtime_ns for p in raw.iterdir()}
    with wf.edited("competitions/spaceship-titanic/description.md"):
        jobs = jobs_planned(wf.snakemake("-n"))
        assert jobs["prepare_competition"] == 1
        assert jobs["run_agent"] == len(AGENTS) * len(SEEDS)
        wf.snakemake("--until", "prepare_competition")
    log = (wf.results / "logs" / "prepare" / "spaceship-titanic.log").read_text()
    assert "reusing raw/" in log and "extracting" not in log
    assert {p.name: p.stat().st_mtime_ns for p in raw.iterdir()} == before
    public = wf.root / "data" / "spaceship-titanic" / "prepared" / "public" / "description.md"
    assert public.read_text().endswith("# edited\n")
