"""The anytime reports (mlepipe.reports.anytime) on hand-made grade records: a run's outcome at
time T, the T grid, the medal rate at T with its SEM, and best-so-far curves."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mlepipe.reports.anytime import best_so_far, medal_at_time, outcome_at, time_grid


def entry(elapsed, score, medal="none"):
    return {"elapsed_s": elapsed, "score": score, "valid": score is not None,
            "any_medal": medal != "none", "medal": medal}  # fmt: skip


def grade(seed, timeline, competition="c1", **extra):
    last = timeline[-1] if timeline else None
    return {
        "agent": "a", "hardware": "h", "competition_id": competition, "seed": seed,
        "splits": ["low"], "medals_known": True, "is_lower_better": False,
        "gold_threshold": 0.9, "silver_threshold": 0.8, "bronze_threshold": 0.7,
        "median_threshold": 0.5, "gold_medal": False, "silver_medal": False,
        "bronze_medal": bool(last and last["any_medal"]), "above_median": False,
        "any_medal": bool(last and last["any_medal"]), "valid_submission": bool(last),
        "score": last["score"] if last else None, "wall_seconds": 100.0, "sandboxed": True,
        "timeline": timeline, **extra,
    }  # fmt: skip


def test_a_run_has_its_last_version_at_or_before_t():
    run = grade(0, [entry(10, 0.4), entry(50, 0.75, "bronze"), entry(90, 0.6)])
    assert outcome_at(run, 5) == (False, False)  # no version yet
    assert outcome_at(run, 10) == (True, False)
    assert outcome_at(run, 49.9) == (True, False)
    assert outcome_at(run, 50) == (True, True)
    assert outcome_at(run, 95) == (True, False)  # a worse last version loses the medal
    # Without a timeline the final submission counts from the run's wall time on.
    final = {**grade(0, [entry(0, 0.75, "bronze")]), "timeline": None}
    assert outcome_at(final, 99) == (False, False) and outcome_at(final, 100) == (True, True)


def test_the_grid_is_whole_hours_up_to_the_limit_and_fractions():
    points = time_grid(3 * 3600 + 5, fractions=[0.5, 1.0])
    assert [p["t_label"] for p in points] == ["1 h", "2 h", "3 h", "0.5 of the limit",
                                              "1 of the limit"]  # fmt: skip
    assert [p["t_seconds"] for p in points][-2:] == [(3 * 3600 + 5) / 2, 3 * 3600 + 5]
    assert [p["t_seconds"] for p in time_grid(100, hours=[0.01, 1])] == [36.0]


def test_medal_rate_at_t_mean_and_sem_over_seeds():
    grades = pd.DataFrame(
        [
            grade(0, [entry(10, 0.75, "bronze")], "c1"),
            grade(0, [entry(60, 0.95, "gold")], "c2"),
            grade(1, [entry(30, 0.4)], "c1"),
            grade(1, [], "c2"),  # wrote nothing
        ]
    )
    table = medal_at_time(grades, {"h": 100.0}, hours=[], fractions=[0.2, 0.5, 1.0])
    rows = table[table.split == "all"].set_index("t_seconds")
    # T=20: seed 0 has c1's bronze (1 of 2), seed 1 nothing: 50 and 0 -> 25 ± 25.
    assert rows.loc[20.0, "any_medal_pct"] == pytest.approx(25.0)
    assert rows.loc[20.0, "any_medal_pct_sem"] == pytest.approx(25.0)
    assert rows.loc[20.0, "valid_pct"] == pytest.approx(25.0)
    # T=50: seed 1's c1 is valid now (no medal).
    assert rows.loc[50.0, "any_medal_pct"] == pytest.approx(25.0)
    assert rows.loc[50.0, "valid_pct"] == pytest.approx(50.0)
    # T=100: seed 0 has both medals: 100 and 0 -> 50 ± 50.
    assert rows.loc[100.0, "any_medal_pct"] == pytest.approx(50.0)
    assert rows.loc[100.0, "any_medal_pct_sem"] == pytest.approx(50.0)
    assert {"all", "low"} <= set(table.split)


def test_a_missing_run_is_padded_as_no_medal_at_every_t():
    grades = pd.DataFrame(
        [grade(0, [entry(10, 0.75, "bronze")], "c1"), grade(1, [entry(10, 0.75, "bronze")], "c2")]
    )
    table = medal_at_time(grades, {"h": 100.0}, hours=[], fractions=[1.0])
    row = table[table.split == "all"].iloc[0]
    assert row["any_medal_pct"] == pytest.approx(50.0) and row["any_medal_pct_sem"] == 0.0
    dropped = medal_at_time(grades, {"h": 100.0}, hours=[], fractions=[1.0], missing_seeds="drop")
    assert dropped[dropped.split == "all"].iloc[0]["any_medal_pct"] == pytest.approx(100.0)


def test_best_so_far_follows_the_direction_and_skips_invalid_versions():
    higher = grade(0, [entry(1, 0.4), entry(2, None), entry(3, 0.3), entry(4, 0.75, "bronze")])
    lower = grade(0, [entry(1, 5.0), entry(2, 7.0), entry(3, 2.0)], "c2", is_lower_better=True)
    curves = best_so_far(pd.DataFrame([higher, lower]))
    c1 = curves[curves.competition_id == "c1"]
    assert list(c1["best_score"]) == [0.4, 0.4, 0.4, 0.75]
    assert list(c1["best_medal"]) == ["none", "none", "none", "bronze"]
    assert list(curves[curves.competition_id == "c2"]["best_score"]) == [5.0, 5.0, 2.0]
    assert not any(isinstance(v, float) and math.isnan(v) for v in c1["best_score"])
