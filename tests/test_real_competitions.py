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
from pipeline import REPO, Workflow, jobs_planned, needs_bubblewrap_and_mirror

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = needs_bubblewrap_and_mirror()

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


def test_what_each_run_used_reaches_its_grade_and_the_tables(wf):
    runs, grades = wf.runs(), wf.grades()
    for key, run in runs.items():
        used, grade = run["metering"], grades[key]
        # One CPU (the hardware config): the run's CPU time fits in its wall time on it, with
        # the sandbox's start-up before the clock; the baseline trains models, so uses some.
        assert 0 < used["cpu_seconds"] <= run["wall_seconds"] + 2, key
        assert used["gpu_hours"] == 0.0 and used["gpus"] == []
        if used["peak_memory_mb"] is not None:  # where a memory cgroup can be made
            assert 10 < used["peak_memory_mb"] <= 3000, key  # under the 3 GB limit
        assert grade["cpu_seconds"] == used["cpu_seconds"]
        assert grade["peak_memory_mb"] == used["peak_memory_mb"]
    table = pd.read_csv(wf.results / "reports" / "per_competition.csv")
    assert table["cpu_seconds"].notna().all() and len(table) == RUNS
    summary = pd.read_csv(wf.results / "reports" / "summary.csv")
    for agent in AGENTS:
        row = summary[(summary.agent == agent) & (summary.split == "all")].iloc[0]
        total = sum(g["cpu_seconds"] for k, g in grades.items() if k[0] == agent)
        assert row["cpu_hours"] == pytest.approx(total / 3600, abs=1e-4)
        assert row["gpu_hours"] == 0


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
    assert set(jobs) == {
        "grade_run", "competition_table", "report_tables", "report_charts", "report_anytime",
        "export_leaderboard", "all",
    }  # fmt: skip
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


def test_a_run_over_its_disk_quota_or_output_cap_spares_the_others(tmp_path):
    # One agent fills its code folder, one prints far past the output cap and then submits, one
    # behaves: on a real competition with the official thresholds, all three are recorded and
    # graded, and neither hostile run takes more than its quota.
    adversarial = str(REPO / "tests" / "agents_adversarial")
    agents = {
        "dummy": {"kind": "builtin"},
        "filler": {"kind": "command", "command": "python /home/agent/disk_filler.py",
                   "code_dir": adversarial},
        "loud": {"kind": "command", "command": "python /home/agent/loud.py 4",
                 "code_dir": adversarial},
    }  # fmt: skip
    hardware = {"quota": {"cpus": 1, "memory_gb": 2, "time_limit": "2m", "disk_gb": 0.05,
                          "output_mb": 1}}  # fmt: skip
    config = {
        "competitions": ["spaceship-titanic"], "agents": list(agents), "hardware": ["quota"],
        "seeds": [0], "data_dir": str(tmp_path / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
    }  # fmt: skip
    wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=hardware)
    wf.snakemake(timeout=900)
    runs = {k[0]: r for k, r in wf.runs().items()}
    grades = {k[0]: g for k, g in wf.grades().items()}

    filler = runs["filler"]
    assert filler["status"] == "disk-quota" and filler["disk_exceeded"]["quota_mb"] == 50
    assert filler["wall_seconds"] < 60  # stopped for its quota, long before its time limit
    code = wf.results / "runs/filler/quota/spaceship-titanic/0/code"
    assert 50e6 < sum(p.stat().st_size for p in code.iterdir()) < 50e6 + 2**30
    assert not grades["filler"]["valid_submission"]
    assert "disk-quota" in grades["filler"]["invalid_reason"]

    loud = runs["loud"]
    assert loud["status"] == "ok" and loud["output_dropped_bytes"]["stdout"] > 3 * 2**20
    logs = wf.results / "runs/loud/quota/spaceship-titanic/0/logs"
    assert (logs / "agent.stdout").stat().st_size == (logs / "agent.stderr").stat().st_size
    assert (logs / "agent.stdout").stat().st_size == 2**20

    # The sample submission both well-behaved agents send is graded alike, against the real
    # answers, with the official thresholds known.
    for name in ("loud", "dummy"):
        assert grades[name]["valid_submission"] and grades[name]["medals_known"], name
    assert grades["loud"]["score"] == grades["dummy"]["score"]


def test_a_submission_too_big_to_grade_is_invalid_after_the_retries(tmp_path):
    # A wide CSV takes the grader about 5-11 times its size in memory. Grading runs in a bounded
    # sandbox: each attempt with twice the memory of the one before, and after the last the
    # submission is recorded as invalid, while the other run is graded as usual.
    agents = {
        "dummy": {"kind": "builtin"},
        "bomb": {"kind": "command", "command": "python /home/agent/grader_bomb.py 300",
                 "code_dir": str(REPO / "tests" / "agents_adversarial")},
    }  # fmt: skip
    config = {
        "competitions": ["spaceship-titanic"], "agents": list(agents), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(tmp_path / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        "grading_memory_mb": 200,
    }  # fmt: skip
    wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=HARDWARE)
    proc = wf.snakemake(timeout=900)
    grades = {k[0]: g for k, g in wf.grades().items()}
    bomb = grades["bomb"]
    assert bomb["submission_exists"] and not bomb["valid_submission"]
    assert bomb["invalid_reason"] == (
        "grading this submission took more than 800 MB of memory, the most grading may use"
    )
    # The two attempts before, with 200 and 400 MB, failed and were retried.
    retried = proc.stderr.count("grading needed more than")
    assert "200 MB" in proc.stderr and "400 MB" in proc.stderr and retried >= 2
    dummy = grades["dummy"]
    assert dummy["valid_submission"] and dummy["medals_known"] and dummy["score"] > 0
