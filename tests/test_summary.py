"""Aggregates: mean +/- SEM over seeds (ddof=1) and the unbiased pass@k, worked by hand; medal
rates only over competitions whose medals are known; the end-of-run summary."""

import io
import json
import math

import pandas as pd
import pytest
from report_grades import record, thresholds, write

from mlepipe.reports.stats import pass_at_k
from mlepipe.reports.summary import (
    load_grades,
    per_competition,
    print_run_summary,
    summarize,
)
from mlepipe.reports.tables import write_tables


def grade(comp, seed, medal, valid=True, splits=("low",), known=True):
    return {
        "agent": "a", "hardware": "h", "competition_id": comp, "seed": seed,
        "gold_medal": medal == "gold", "silver_medal": medal == "silver",
        "bronze_medal": medal == "bronze", "any_medal": medal is not None,
        "above_median": medal is not None, "valid_submission": valid,
        "sandboxed": True, "splits": list(splits), "medals_known": known,
    }  # fmt: skip


def test_pass_at_k_unbiased_estimator():
    assert pass_at_k(3, 0, 1) == 0.0
    assert pass_at_k(3, 1, 1) == pytest.approx(1 / 3)
    assert pass_at_k(3, 1, 2) == pytest.approx(1 - 1 / 3)  # 1 - C(2,2)/C(3,2)
    assert pass_at_k(3, 2, 2) == 1.0


def test_rates_are_mean_and_sem_over_seeds():
    # Two competitions, three seeds. Per-seed any-medal rate: 50%, 100%, 0%.
    rows = [grade("c1", 0, "gold"), grade("c2", 0, None),
            grade("c1", 1, "bronze"), grade("c2", 1, "silver"),
            grade("c1", 2, None), grade("c2", 2, None, valid=False)]  # fmt: skip
    s = summarize(pd.DataFrame(rows))
    low = s[s.split == "low"].iloc[0]
    assert low.any_medal_pct == pytest.approx(50.0)
    # sample std of (50, 100, 0) = 50; SEM = 50 / sqrt(3)
    assert low.any_medal_pct_sem == pytest.approx(50 / math.sqrt(3))
    assert low.gold_pct == pytest.approx(100 / 6)
    assert low.valid_pct == pytest.approx((100 + 100 + 50) / 3)
    # pass@1 = mean over competitions of c/n = (2/3 + 1/3)/2 = 50%; pass@3: both medalled once
    assert low["pass@1_pct"] == pytest.approx(50.0)
    assert low["pass@3_pct"] == pytest.approx(100.0)
    assert (low.competitions, low.medal_competitions) == (2, 2)
    assert set(s.split) == {"low", "split75", "all"}


def test_single_seed_has_no_sem():
    s = summarize(pd.DataFrame([grade("c1", 0, "gold")]))
    assert math.isnan(s.iloc[0].any_medal_pct_sem)


def test_unknown_medals_are_not_a_zero_rate():
    rows = [grade(c, seed, None, valid=seed != 1 or c == "c1", known=False)
            for c in ("c1", "c2") for seed in (0, 1)]  # fmt: skip
    low = summarize(pd.DataFrame(rows)).query("split == 'low'").iloc[0]
    for name in ("any_medal_pct", "gold_pct", "silver_pct", "bronze_pct", "above_median_pct",
                 "any_medal_pct_sem", "pass@1_pct", "pass@2_pct"):  # fmt: skip
        assert math.isnan(low[name]), name
    assert (low.competitions, low.medal_competitions, low.seeds) == (2, 0, 2)
    # Validity needs no thresholds: seed 0 all valid, seed 1 half.
    assert low.valid_pct == pytest.approx(75.0)


def test_medal_rates_count_only_known_competitions():
    # c1 has thresholds (gold on seed 0 only); c2 has none and must not dilute the rate.
    rows = [grade("c1", 0, "gold"), grade("c1", 1, None),
            grade("c2", 0, None, valid=False, known=False),
            grade("c2", 1, None, known=False)]  # fmt: skip
    low = summarize(pd.DataFrame(rows)).query("split == 'low'").iloc[0]
    assert (low.competitions, low.medal_competitions) == (2, 1)
    assert low.any_medal_pct == pytest.approx(50.0)  # (100 + 0) / 2 seeds, over c1 alone
    assert low.any_medal_pct_sem == pytest.approx(50.0)  # std(100, 0) = 70.71; / sqrt(2)
    assert low.gold_pct == pytest.approx(50.0)
    assert low["pass@1_pct"] == pytest.approx(50.0) and low["pass@2_pct"] == 100.0
    assert low.valid_pct == pytest.approx(75.0)  # over both competitions: (50 + 100) / 2


def test_grades_without_medals_known_field_use_the_gold_threshold(tmp_path):
    t = thresholds(0.9, 0.8, 0.7, 0.5)
    records = [
        record("spaceship-titanic", 0.95, t, splits=("low",)),
        record("practice-wine", 0.3, None, splits=("low",)),
    ]
    assert [r["medals_known"] for r in records] == [True, False]
    for r in records:
        del r["medals_known"]  # as written before the field existed
    grades = load_grades(write(records, tmp_path))
    assert list(grades.sort_values("competition_id").medals_known) == [False, True]
    low = summarize(grades).query("split == 'low'").iloc[0]
    assert (low.medal_competitions, low.any_medal_pct) == (1, 100.0)


def test_per_competition_leaves_unknown_medals_missing(tmp_path):
    t = thresholds(0.9, 0.8, 0.7, 0.5)
    records = [record("spaceship-titanic", 0.6, t), record("practice-wine", 0.3)]
    table = per_competition(load_grades(write(records, tmp_path))).set_index("competition_id")
    assert table.loc["spaceship-titanic", "medal"] == "none"
    assert not table.loc["spaceship-titanic", "any_medal"]
    assert table.loc["spaceship-titanic", "above_median"]  # 0.6 > 0.5
    assert pd.isna(table.loc["practice-wine", "medal"])
    assert pd.isna(table.loc["practice-wine", "any_medal"])
    assert pd.isna(table.loc["practice-wine", "gold_threshold"])


def results_with_reports(tmp_path, records, build_reports=True):
    results = tmp_path / "results"
    paths = write(records, results)
    if build_reports:
        reports = results / "reports"
        reports.mkdir(parents=True)
        write_tables(load_grades(paths), {"summary_csv": reports / "summary.csv"})
    return results


def summary_text(results, **kwargs) -> str:
    out = io.StringIO()
    print_run_summary(results, stream=out, **kwargs)
    return out.getvalue()


def test_run_summary_names_reports_rates_and_failed_runs(tmp_path):
    t = thresholds(0.9, 0.8, 0.7, 0.5)
    records = [
        record("spaceship-titanic", 0.95, t, seed=0, splits=("low",)),
        record("spaceship-titanic", None, t, seed=1, status="timeout", reason="no file",
               splits=("low",)),
        record("practice-wine", 0.3, seed=0, agent="agent-b"),
    ]  # fmt: skip
    results = results_with_reports(tmp_path, records)
    text = summary_text(results)
    assert f"reports in {results / 'reports'}/" in text
    lines = text.splitlines()
    # agent-a: 1 of 2 seeds with a gold on its one known competition; agent-b: unknown.
    low = next(x for x in lines if "agent-a / cpu-small, low:" in x)
    assert "50.0 ± 50.0 %" in low and "1 of 1 competitions with known medals, 2 seeds" in low
    practice = next(x for x in lines if "agent-b / cpu-small, practice:" in x)
    assert "n/a" in practice and "0 of 1 competitions" in practice
    assert "Runs graded: 3; failed (run status not ok): 1" in text
    run = results / "runs/agent-a/cpu-small/spaceship-titanic/1/logs"
    job = results / "logs/runs/agent-a/cpu-small/spaceship-titanic/1.log"
    failure = next(x for x in lines if "timeout" in x)
    assert f"{run}/" in failure and str(job) in failure


def test_run_summary_caps_the_failure_list(tmp_path):
    records = [record("practice-wine", None, seed=s, status="crashed") for s in range(14)]
    text = summary_text(results_with_reports(tmp_path, records), max_failures=10)
    assert sum("crashed:" in x for x in text.splitlines()) == 10
    assert "... and 4 more" in text


def test_run_summary_without_reports_prints_what_exists(tmp_path):
    records = [record("practice-wine", 0.3), record("practice-digits", None, status="oom")]
    results = results_with_reports(tmp_path, records, build_reports=False)
    (results / "grades/agent-a/cpu-small/practice-wine/7.json").write_text("{")  # half-written
    text = summary_text(results, failed=True, log=["/x/snakemake.log"])
    assert "stopped with errors; Snakemake log: /x/snakemake.log" in text
    assert "no reports yet" in text and "Runs graded: 2; failed (run status not ok): 1" in text
    assert "1 grade file(s) unreadable" in text
    empty = summary_text(tmp_path / "nothing-here")
    assert "no reports yet" in empty and "Runs graded: 0" in empty


def test_run_summary_does_not_present_a_grade_of_another_attempt(tmp_path):
    """A grade names the attempt it graded (run_id); once the run was redone, that grade and the
    reports built from it are out of date."""
    t = thresholds(0.9, 0.8, 0.7, 0.5)
    old = record("spaceship-titanic", 0.95, t, seed=0, splits=("low",))
    old["run_id"] = "first-attempt"
    kept = record("spaceship-titanic", 0.6, t, seed=1, splits=("low",))
    kept["run_id"] = "only-attempt"
    results = results_with_reports(tmp_path, [old, kept])
    assert "out of date" not in summary_text(results)
    for seed, run_id in ((0, "second-attempt"), (1, "only-attempt")):
        run_dir = results / "runs/agent-a/cpu-small/spaceship-titanic" / str(seed)
        run_dir.mkdir(parents=True)
        (run_dir / "run.json").write_text(json.dumps({"run_id": run_id}))
    text = summary_text(results)
    assert f"the reports in {results / 'reports'}/ are out of date" in text
    assert "Any-medal rate" not in text  # the old figures are not presented
    assert "Runs graded: 1;" in text
    assert "agent-a/cpu-small/spaceship-titanic/0: its run was redone since" in text
