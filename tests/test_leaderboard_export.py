"""The leaderboard export: MLE-bench's run-group layout and grading-report fields, the README's
table from the grades, and the `compare` / `export-leaderboard` commands."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from report_grades import record, thresholds, write

from mlepipe.grading.report import MLEBENCH_FIELDS, batch_summary
from mlepipe.reports.leaderboard import (
    MLEBENCH_REPORT_FIELDS,
    export_leaderboard,
    grading_report,
    leaderboard_markdown,
)

T = thresholds(0.9, 0.8, 0.7, 0.5)
# `mlebench grade`'s report, as its mlebench/grade.py and grade_helpers.py write it.
MLEBENCH_TOTALS = ("total_runs", "total_runs_with_submissions", "total_valid_submissions",
                   "total_medals", "total_gold_medals", "total_silver_medals",
                   "total_bronze_medals", "total_above_median", "competition_reports")  # fmt: skip
MLEBENCH_COMPETITION_FIELDS = (
    "competition_id", "score", "gold_threshold", "silver_threshold", "bronze_threshold",
    "median_threshold", "any_medal", "gold_medal", "silver_medal", "bronze_medal", "above_median",
    "submission_exists", "valid_submission", "is_lower_better", "created_at", "submission_path",
)  # fmt: skip
HARDWARE = {"cpu-small": {"cpus": 2, "memory_mb": 4000, "gpus": 0, "gpu_model": None,
                          "time_limit_seconds": 86400}}  # fmt: skip


def records():
    """agent-a on two Lite competitions with thresholds, seeds 0 and 1; seed 1 of the second
    is missing. Medals: seed 0 both (gold, bronze), seed 1 the first only (silver)."""
    out = [
        record("spooky-author-identification", 0.95, T, seed=0),
        record("random-acts-of-pizza", 0.75, T, seed=0),
        record("spooky-author-identification", 0.85, T, seed=1),
    ]
    for r in out:
        r["splits"] = ["low"]
    return out


def test_fields_are_mlebench_grading_report_fields():
    assert MLEBENCH_REPORT_FIELDS == MLEBENCH_COMPETITION_FIELDS == MLEBENCH_FIELDS
    report = grading_report(records())
    assert tuple(report) == MLEBENCH_TOTALS
    assert [tuple(e) for e in report["competition_reports"]] == [MLEBENCH_FIELDS] * 3
    assert (report["total_medals"], report["total_gold_medals"], report["total_silver_medals"],
            report["total_bronze_medals"]) == (3, 1, 1, 1)  # fmt: skip


def test_totals_agree_with_the_graders_batch_summary():
    from mlepipe.grading.report import build_report
    from mlepipe.grading.variants import VARIANTS
    from mlepipe.registry import Registry

    reg = Registry()
    reports = [build_report(reg.get(c), f"{c}.csv", True, dict.fromkeys(VARIANTS, (s, None)), T)
               for c, s in (("spaceship-titanic", 0.95), ("spaceship-titanic", 0.6),
                            ("practice-wine", None))]  # fmt: skip
    ours = grading_report([r.to_dict() for r in reports])
    theirs = batch_summary(reports)
    assert {k: v for k, v in ours.items() if k != "competition_reports"} == {
        k: v for k, v in theirs.items() if k != "competition_reports"
    }


def test_export_writes_one_report_per_run_group(tmp_path):
    recs = records()
    paths, table = export_leaderboard(recs, tmp_path, HARDWARE)
    assert [p.parent.name for p in paths] == ["agent-a_cpu-small_seed0", "agent-a_cpu-small_seed1"]
    for p in paths:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-UTC_grading_report\.json", p.name)
    seed0 = json.loads(paths[0].read_text())
    assert [e["competition_id"] for e in seed0["competition_reports"]] == [
        "random-acts-of-pizza", "spooky-author-identification"]  # fmt: skip
    assert json.loads(paths[1].read_text())["total_runs"] == 1  # the missing run is not invented
    assert (tmp_path / "runs" / "run_group_experiments.csv").read_text() == (
        "experiment_id,run_group\nagent-a_cpu-small,agent-a_cpu-small_seed0\n"
        "agent-a_cpu-small,agent-a_cpu-small_seed1\n"
    )
    # Same grades, same files.
    again, _ = export_leaderboard(recs, tmp_path / "again", HARDWARE)
    assert [p.name for p in again] == [p.name for p in paths]


def test_leaderboard_table_from_the_grades():
    grades = pd.DataFrame(records())
    # pad: seed 0 2/2, seed 1 1/2 -> 75 +/- 25; drop: seed 1 1/1 -> 100 +/- 0
    pad = leaderboard_markdown(grades, HARDWARE, "pad")
    row = next(x for x in pad.splitlines() if x.startswith("| agent-a"))
    assert row == (
        "| agent-a | cpu-small | 75.00 ± 25.00 (2 of 22 competitions) | n/a | n/a | "
        "75.00 ± 25.00 (2 of 75 competitions) | 24 | 2 CPUs, 4 GB RAM | 2 | 1 |"
    )
    assert "padded" in pad
    drop = leaderboard_markdown(grades, HARDWARE, "drop")
    assert "| 100.00 ± 0.00 (2 of 22 competitions) |" in drop and "left out" in drop
    assert "Low == Lite (%) | Medium (%) | High (%) | All (%)" in pad


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mlepipe", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_compare_command(tmp_path):
    recs = records() + [
        {**r, "agent": "agent-b", "any_medal": False, "gold_medal": False,
         "silver_medal": False, "bronze_medal": False} for r in records()
    ]  # fmt: skip
    write(recs, tmp_path / "results")
    proc = run_cli("compare", "--grades", str(tmp_path / "results"), "agent-a", "agent-b",
                   "--resamples", "200")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # Per competition (pad): spooky 1 - 0, pizza 0.5 - 0 (seed 1 padded for both agents)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("| cpu-small | low |"))
    assert "| 2 | 75.0 | 0.0 | 75.0 |" in line and "| 2 | 0 | 0 | 0.5 |" in line
    assert "missing_seeds: pad" in proc.stdout
    bad = run_cli("compare", "--grades", str(tmp_path / "results"), "agent-a", "nobody")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "no grades of agent 'nobody'" in bad.stderr
    empty = run_cli("compare", "--grades", str(tmp_path / "none"), "a", "b")
    assert empty.returncode == 2 and "no grades under" in empty.stderr


def test_export_leaderboard_command(tmp_path):
    write(records(), tmp_path / "results")
    hw = tmp_path / "hardware.yaml"
    hw.write_text("cpu-small: {cpus: 2, memory_gb: 4, time_limit: 24h}\n")
    out = tmp_path / "export"
    proc = run_cli("export-leaderboard", "--grades", str(tmp_path / "results" / "grades"),
                   "--output", str(out), "--hardware-file", str(hw))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "| agent-a | cpu-small | 75.00 ± 25.00" in proc.stdout
    assert len(list(out.glob("runs/*/*_grading_report.json"))) == 2


@pytest.mark.parametrize("level", ["0", "1.5"])
def test_bad_bootstrap_settings_are_one_line(tmp_path, level):
    write(records(), tmp_path / "results")
    proc = run_cli("compare", "--grades", str(tmp_path / "results"), "agent-a", "agent-a",
                   "--level", level)  # fmt: skip
    assert proc.returncode == 2 and "--level" in proc.stderr
