"""The report statistics, worked by hand: pass@k, the bootstrap interval, the paired comparison
and its sign test, missing runs padded or dropped, and the MLE-bench category breakdown."""

import math

import numpy as np
import pandas as pd
import pytest

from mlepipe.reports.stats import (
    Bootstrap,
    bootstrap_rate,
    mean_pass_at_k,
    paired_comparison,
    pass_at_k,
    sign_test,
)
from mlepipe.reports.summary import compare_agents, mlebench_category, summarize
from mlepipe.reports.tables import write_comparison, write_tables

FEW = Bootstrap(resamples=2000, level=0.95, seed=0)


def grade(comp, seed, medal, agent="a", hardware="h", splits=("low",), valid=True):
    return {
        "agent": agent, "hardware": hardware, "competition_id": comp, "seed": seed,
        "gold_medal": medal, "silver_medal": False, "bronze_medal": False, "any_medal": medal,
        "above_median": medal, "valid_submission": valid, "submission_exists": valid,
        "sandboxed": True, "splits": list(splits), "medals_known": True,
    }  # fmt: skip


def test_pass_at_k_by_hand():
    # n=3, c=1: pass@1 = 1/3; pass@2 = 1 - C(2,2)/C(3,2) = 2/3; pass@3 = 1
    assert [pass_at_k(3, 1, k) for k in (1, 2, 3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    # n=4, c=2: pass@2 = 1 - C(2,2)/C(4,2) = 5/6
    assert pass_at_k(4, 2, 2) == pytest.approx(5 / 6)
    assert pass_at_k(5, 0, 3) == 0.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_pass_at_k_is_not_the_first_k_runs():
    # The biased "any of the first k" form would give pass@1 = 1 here (the first run medals).
    assert pass_at_k(3, 1, 1) == pytest.approx(1 / 3)
    # Averaged over competitions: (1/3 + 1) / 2 at k=1; a competition with 2 runs: n/a at k=3
    m = np.array([[1, 0, 0], [1, 1, 1.0]])
    assert mean_pass_at_k(m, 1) == pytest.approx(2 / 3)
    assert math.isnan(mean_pass_at_k(np.array([[1, 0, np.nan], [1, 1, 1.0]]), 3))


def test_summary_has_pass_at_k_for_every_k_up_to_the_seeds():
    rows = [grade("c1", s, m) for s, m in enumerate((True, False, False))]
    rows += [grade("c2", s, False) for s in range(3)]
    low = summarize(pd.DataFrame(rows), bootstrap=FEW).query("split == 'low'").iloc[0]
    # c1: n=3, c=1 -> 1/3, 2/3, 1; c2: 0 -> mean 1/6, 1/3, 1/2
    assert [low[f"pass@{k}_pct"] for k in (1, 2, 3)] == pytest.approx([100 / 6, 100 / 3, 50])


def test_bootstrap_of_a_degenerate_case_is_the_value():
    for value in (0.0, 1.0):
        assert bootstrap_rate(np.full((4, 3), value), FEW) == (value, value)
    # One competition, one seed: nothing varies.
    assert bootstrap_rate(np.array([[1.0]]), FEW) == (1.0, 1.0)


def test_bootstrap_is_reproducible_and_depends_on_its_seed():
    m = np.random.default_rng(5).integers(0, 2, size=(30, 3)).astype(float)
    first = bootstrap_rate(m, FEW)
    assert bootstrap_rate(m, FEW) == first
    assert bootstrap_rate(m, Bootstrap(2000, 0.95, seed=1)) != first
    low, high = first
    assert 0.0 <= low < m.mean() < high <= 1.0
    # A narrower level gives a narrower interval.
    low80, high80 = bootstrap_rate(m, Bootstrap(2000, 0.80, seed=0))
    assert low <= low80 and high80 <= high


def test_bootstrap_resamples_competitions_then_seeds():
    # Two competitions, each always 1 or always 0: only the competition draw varies, so the
    # rate is k/2 for k competitions drawn from the 1-row: 0, 0.5 or 1 (p = 1/4, 1/2, 1/4).
    m = np.array([[1, 1, 1], [0, 0, 0.0]])
    assert bootstrap_rate(m, Bootstrap(4000, 0.95, 0)) == (0.0, 1.0)
    assert bootstrap_rate(m, Bootstrap(4000, 0.40, 0)) == (0.5, 0.5)


def test_sign_test_by_hand():
    # 6 competitions, 5 wins 1 loss: p = 2 * (C(6,0) + C(6,1)) / 2^6 = 14/64
    assert sign_test(5, 1) == pytest.approx(0.21875)
    assert sign_test(3, 3) == 1.0
    assert sign_test(6, 0) == pytest.approx(2 / 64)
    assert math.isnan(sign_test(0, 0))


def test_paired_comparison_by_hand():
    # 7 competitions, 2 seeds each. Rates a: 1, 1, 1, .5, 1, 0, .5; b: 0, .5, 0, 0, 0, .5, .5
    a = np.array([[1, 1], [1, 1], [1, 1], [1, 0], [1, 1], [0, 0], [1, 0.0]])
    b = np.array([[0, 0], [1, 0], [0, 0], [0, 0], [0, 0], [1, 0], [0, 1.0]])
    comps = [f"c{i}" for i in range(7)]
    p = paired_comparison(comps, a, b, FEW)
    assert list(p.differences) == [1, 0.5, 1, 0.5, 1, -0.5, 0]
    assert (p.wins, p.losses, p.ties) == (5, 1, 1)
    assert p.sign_test_p == pytest.approx(0.21875)
    assert p.mean_difference == pytest.approx(3.5 / 7)
    assert p.ci_low < p.mean_difference < p.ci_high
    again = paired_comparison(comps, a, b, FEW)
    assert (again.ci_low, again.ci_high) == (p.ci_low, p.ci_high)  # same RNG seed, same interval
    # Identical agents: every pair tied, no sign test; each agent's seeds are resampled on
    # their own, so the interval still has the width of that noise, around 0.
    same = paired_comparison(comps, a, a, FEW)
    assert same.mean_difference == 0.0 and same.ci_low < 0.0 < same.ci_high
    assert (same.ties, same.wins, same.losses) == (7, 0, 0) and math.isnan(same.sign_test_p)
    # Always a medal against never: the difference is 1 in every draw.
    ones, zeros = np.ones((3, 2)), np.zeros((3, 2))
    sure = paired_comparison(comps[:3], ones, zeros, FEW)
    assert (sure.mean_difference, sure.ci_low, sure.ci_high) == (1.0, 1.0, 1.0)


def two_agents() -> pd.DataFrame:
    """The hand-worked case above as grade rows: agent x beats agent y on 5 of 6 competitions
    with a difference, ties one."""
    a = [[1, 1], [1, 1], [1, 1], [1, 0], [1, 1], [0, 0], [1, 0]]
    b = [[0, 0], [1, 0], [0, 0], [0, 0], [0, 0], [1, 0], [0, 1]]
    rows = []
    for agent, runs in (("x", a), ("y", b)):
        for i, seeds in enumerate(runs):
            rows += [grade(f"c{i}", s, bool(v), agent=agent) for s, v in enumerate(seeds)]
    return pd.DataFrame(rows)


def test_compare_agents_on_grades(tmp_path):
    table, diffs = compare_agents(two_agents(), "x", "y", bootstrap=FEW)
    low = table.query("split == 'low'").iloc[0]
    assert (low.competitions, low.wins, low.losses, low.ties) == (7, 5, 1, 1)
    assert low.sign_test_p == pytest.approx(0.21875)
    assert low.mean_difference_pct == pytest.approx(50.0)
    assert (low.rate_a_pct, low.rate_b_pct) == pytest.approx((500 / 7, 150 / 7))
    assert set(table.split) == {"low", "split75", "all"}
    assert diffs.set_index("competition_id").difference_pct.to_dict()["c5"] == -50.0
    out = {"compare_md": tmp_path / "c.md", "compare_html": tmp_path / "c.html",
           "compare_csv": tmp_path / "c.csv", "differences_csv": tmp_path / "d.csv"}  # fmt: skip
    write_comparison(two_agents(), "x", "y", out, bootstrap=FEW)
    md = (tmp_path / "c.md").read_text()
    assert "| h | low | 7 | 71.4 | 21.4 | 50.0 |" in md and "| 5 | 1 | 1 | 0.2188 |" in md
    assert pd.read_csv(tmp_path / "d.csv").shape == (7, 5)
    with pytest.raises(ValueError, match="no grades of agent 'z'"):
        compare_agents(two_agents(), "x", "z")


def test_compare_pairs_only_competitions_both_ran():
    grades = two_agents()
    grades = grades[~((grades.agent == "y") & (grades.competition_id == "c0"))]
    low = compare_agents(grades, "x", "y", bootstrap=FEW)[0].query("split == 'low'").iloc[0]
    assert (low.competitions, low.wins, low.losses, low.ties) == (6, 4, 1, 1)


def test_missing_run_padded_or_dropped():
    # c1 medals on both seeds; c2 medals on seed 0, and its seed-1 run has no grade.
    rows = [grade("c1", 0, True), grade("c1", 1, True), grade("c2", 0, True)]
    pad = summarize(pd.DataFrame(rows), "pad", FEW).query("split == 'low'").iloc[0]
    drop = summarize(pd.DataFrame(rows), "drop", FEW).query("split == 'low'").iloc[0]
    # pad: seed 0: 2/2, seed 1: 1/2 (c2 counted as failed) -> 75 +/- 25
    assert (pad.any_medal_pct, pad.any_medal_pct_sem) == pytest.approx((75.0, 25.0))
    assert pad.valid_pct == pytest.approx(75.0)
    # drop: seed 0: 2/2, seed 1: 1/1 -> 100 +/- 0
    assert (drop.any_medal_pct, drop.any_medal_pct_sem) == pytest.approx((100.0, 0.0))
    assert (pad.missing_runs, drop.missing_runs) == (1, 1)
    assert (pad.runs, drop.runs) == (3, 3)
    # pass@2: pad: c1 1, c2 (n=2, c=1) 1 -> 100; drop: c2 has 1 run -> n/a; pass@1: 1 and 1
    assert pad["pass@1_pct"] == pytest.approx(75.0) and pad["pass@2_pct"] == 100.0
    assert drop["pass@1_pct"] == 100.0 and math.isnan(drop["pass@2_pct"])
    # The interval: pad varies, drop (every run a medal) is degenerate.
    assert (drop.any_medal_ci_low, drop.any_medal_ci_high) == (100.0, 100.0)
    assert pad.any_medal_ci_low < 75.0 < pad.any_medal_ci_high


def test_missing_seeds_stated_in_the_report(tmp_path):
    rows = pd.DataFrame([grade("c1", 0, True), grade("c1", 1, True), grade("c2", 0, True)])
    for mode in ("pad", "drop"):
        out = {"summary_md": tmp_path / f"{mode}.md"}
        write_tables(rows, out, missing_seeds=mode, bootstrap=FEW)
        text = out["summary_md"].read_text()
        assert f"missing_seeds: {mode}" in text
        assert "2000 resamples" in text and "RNG seed 0" in text and "95%" in text


def test_category_breakdown():
    assert mlebench_category("spooky-author-identification") == "Text Classification"
    assert mlebench_category("denoising-dirty-documents") == "Image To Image"
    assert mlebench_category("practice-wine") == "none given"
    rows = [grade("spooky-author-identification", s, s == 0) for s in (0, 1)]
    rows += [grade("random-acts-of-pizza", s, True) for s in (0, 1)]
    rows += [grade("aerial-cactus-identification", s, False) for s in (0, 1)]
    table = summarize(pd.DataFrame(rows), bootstrap=FEW, by="category").set_index("category")
    assert set(table.index) == {"Text Classification", "Image Classification"}
    text = table.loc["Text Classification"]
    # seed 0: 2/2, seed 1: 1/2 -> 75 +/- 25 over the two text competitions
    assert (text.competitions, text.any_medal_pct, text.any_medal_pct_sem) == (2, 75.0, 25.0)
    assert table.loc["Image Classification"].any_medal_pct == 0.0
