"""spooky-author-identification prepared from its original Kaggle download: the held-out tenth
of the sentences, and its grading verdicts (multi-class log loss)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "spooky-author-identification"
CLASSES = ["EAP", "HPL", "MWS"]


def test_split_holds_out_a_tenth_of_the_labelled_sentences(competition, data_dir, answers):
    train = pd.read_csv(competition.public_dir(data_dir) / "train.csv")
    test = pd.read_csv(competition.public_dir(data_dir) / "test.csv")
    assert list(test.columns) == ["id", "text"]
    assert len(test) == len(answers) == 1958 and len(train) == 17621
    assert set(train["id"]).isdisjoint(test["id"])
    assert (answers[CLASSES].sum(axis=1) == 1).all()


def test_sample_submission_scores_its_constant_probabilities(sample_grading, answers):
    # Hand-computed: the mean of -log(probability the sample gives to the true author).
    constant = np.array([0.403493538995863, 0.287808366106543, 0.308698094897594])
    expected = -np.mean(np.log(answers[CLASSES].to_numpy() @ constant))
    assert sample_grading.score == pytest.approx(expected, abs=1e-12)
    assert sample_grading.report.score == round_score(expected)
    assert sample_grading.report.is_lower_better


def test_one_softened_row_costs_its_log_probability(competition, answers):
    sub = answers.astype({c: float for c in CLASSES})
    true_col = CLASSES[int(np.argmax(sub.loc[0, CLASSES].to_numpy()))]
    sub.loc[0, CLASSES] = 0.25
    sub.loc[0, true_col] = 0.5
    # Every other row is certain and right, costing -log(1 - eps) ~ 2e-16 each.
    assert score_frames(sub, answers, competition) == pytest.approx(
        -np.log(0.5) / len(sub), abs=1e-12
    )


def test_rows_are_paired_by_id_not_by_position(competition, answers):
    shuffled = answers.sample(frac=1.0, random_state=1)
    assert round_score(score_frames(shuffled, answers, competition)) == 0.0


def test_reordered_columns_are_scored_although_mlebench_refuses_them(competition, answers):
    # MLE-bench sums `iloc[:, 1:]`, so an id that is not first breaks its check (known issue).
    moved = answers[["EAP", "id", "HPL", "MWS"]]
    assert round_score(score_frames(moved, answers, competition)) == 0.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["MWS"]), "missing column(s) 'MWS'"),
        (lambda s: s.assign(extra=1), "unexpected column(s) 'extra'"),
        (lambda s: s.iloc[1:], "rows, expected 1958"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], "id_nowhere")), "unknown id"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], s["id"].iloc[1])), "duplicate"),
        (lambda s: s.assign(EAP=1.2, HPL=-0.1, MWS=-0.1), "probabilities in [0, 1]"),
        (lambda s: s.assign(EAP=0.5, HPL=0.5, MWS=0.5), "do not sum to 1"),
        (lambda s: s.assign(EAP=0.5, HPL=0.25, MWS=0.25 + 2e-5), "do not sum to 1"),
        (lambda s: s.assign(EAP="high"), "non-numeric"),
    ],
    ids=[
        "missing-class", "extra-column", "missing-row", "unknown-id", "duplicate-id",
        "out-of-range", "sum-1.5", "sum-off-by-2e-5", "text",
    ],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, answers, change, reason):
    assert reason in (verdict(change(answers.copy())) or "valid")


def test_row_sums_within_mlebench_tolerance_are_accepted(verdict, answers):
    # MLE-bench's np.isclose(sum, 1, atol=1e-6) also allows rtol=1e-5: up to 1.1e-5 passes.
    assert verdict(answers.assign(EAP=0.5, HPL=0.25, MWS=0.25 + 1e-5)) is None


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("spooky") == []
