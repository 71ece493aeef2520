"""detecting-insults-in-social-commentary prepared from its original Kaggle download, and its
grading verdicts (AUC).

Rows have no id: they are matched by comment text, and some test comments repeat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlepipe.grading.checks import check_against_sample, read_csv_submission
from mlepipe.grading.scoring import score_frames

COMPETITION_ID = "detecting-insults-in-social-commentary"


@pytest.fixture
def gold(competition, data_dir) -> pd.DataFrame:
    return read_csv_submission(competition.private_dir(data_dir) / "gold_submission.csv")


def test_repeated_comments_are_numbered_from_the_second_copy(competition):
    frame = pd.DataFrame({"Comment": ['"a"', '"b"', '"a"', None, '"a"'], "Insult": range(5)})
    keyed = competition.grade_module.number_repeats(frame)
    assert keyed["Comment"].tolist()[:3] == ['"a"', '"b"', '"a" (copy 2)']
    assert keyed["Comment"].iloc[4] == '"a" (copy 3)' and pd.isna(keyed["Comment"].iloc[3])
    assert frame["Comment"].iloc[2] == '"a"'  # the caller's frame is left alone


def test_repeated_test_comments_always_carry_one_label(answers):
    # grade.py relies on this: which copy meets which cannot change the score.
    repeated = answers[answers["Comment"].duplicated(keep=False)]
    assert answers["Comment"].duplicated().sum() == 20
    assert repeated.groupby("Comment")["Insult"].nunique().eq(1).all()


def test_sample_submission_scores_chance(sample_grading):
    # constant scores: AUC one half
    assert sample_grading.score == 0.5 and sample_grading.report.score == 0.5


def test_gold_submission_scores_one(competition, answers, gold):
    assert score_frames(gold, answers, competition) == 1.0


def test_rows_are_paired_by_comment_and_date_is_optional(competition, answers, gold):
    shuffled = gold.sample(frac=1.0, random_state=3).drop(columns=["Date"])
    assert score_frames(shuffled, answers, competition) == 1.0
    check_against_sample(shuffled, gold, competition)


def test_score_equals_mlebench_sort_and_pair_on_random_predictions(competition, answers, gold):
    rng = np.random.default_rng(0)
    sub = gold.assign(Insult=rng.random(len(gold))).sample(frac=1.0, random_state=5)
    # MLE-bench's computation: sort both files by Comment and pair rows by position.
    s = sub.sort_values("Comment", kind="stable")
    a = answers.sort_values("Comment", kind="stable")
    expected = roc_auc_score(a["Insult"].to_numpy(), s["Insult"].to_numpy())
    assert score_frames(sub, answers, competition) == pytest.approx(expected, abs=1e-15)


def _repeat_a_repeated_comment(s: pd.DataFrame) -> pd.DataFrame:
    """One unique comment replaced by a fourth copy of a comment the test set holds 3 times."""
    counts = s["Comment"].value_counts()
    thrice = counts[counts == 3].index[0]
    unique_row = s.index[s["Comment"].map(counts) == 1][0]
    return s.assign(Comment=s["Comment"].where(s.index != unique_row, thrice))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["Insult"]), "missing column(s) 'Insult'"),
        (lambda s: s.drop(columns=["Comment"]), "missing column(s) 'Comment'"),
        (lambda s: s.iloc[1:], "rows, expected 2647"),
        (lambda s: s.assign(Comment=s["Comment"].where(s.index != 0, '"not in the test set"')),
         "unknown id(s) '\"not in the test set\"'"),
        (_repeat_a_repeated_comment, "(copy 4)"),
        (lambda s: s.assign(Insult=s["Insult"] * 1.5), "probabilities in [0, 1]"),
        (lambda s: s.assign(Insult=s["Insult"].where(s.index != 0, np.nan)), "NaN"),
        (lambda s: s.assign(Insult="insult"), "non-numeric"),
    ],
    ids=[
        "no-target", "no-comment", "missing-row", "unknown-comment", "extra-copy",
        "out-of-range", "nan", "text",
    ],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, gold, change, reason):
    assert reason in (verdict(change(gold)) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("impermium") == []
