"""spaceship-titanic prepared from its original Kaggle download: the public test without the
target, and its grading verdicts (accuracy)."""

from __future__ import annotations

import pandas as pd
import pytest

from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "spaceship-titanic"


@pytest.fixture
def perfect(answers) -> pd.DataFrame:
    return answers[["PassengerId", "Transported"]].copy()


def test_answers_keep_every_column_and_public_test_drops_only_the_target(
    competition, data_dir, answers
):
    test = pd.read_csv(competition.public_dir(data_dir) / "test.csv")
    assert len(answers) == len(test) == 870
    assert list(test.columns) == [c for c in answers.columns if c != "Transported"]
    assert answers["Transported"].dtype == bool


def test_sample_submission_scores_the_share_of_false(sample_grading, answers):
    expected = float((~answers["Transported"]).mean())  # the sample predicts False for everyone
    assert sample_grading.score == pytest.approx(expected)
    assert sample_grading.report.score == round_score(expected)
    assert not sample_grading.report.is_lower_better


def test_one_wrong_passenger_costs_one_row(competition, answers, perfect):
    perfect.loc[perfect.index[0], "Transported"] = not perfect["Transported"].iloc[0]
    assert score_frames(perfect, answers, competition) == pytest.approx(1 - 1 / 870)


def test_rows_are_paired_by_id_not_by_position(competition, answers, perfect):
    assert score_frames(perfect.iloc[::-1], answers, competition) == 1.0


def test_one_and_zero_count_as_true_and_false_as_in_mlebench(competition, answers, perfect):
    as_int = perfect.assign(Transported=perfect["Transported"].astype(int))
    assert score_frames(as_int, answers, competition) == 1.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["Transported"]), "missing column(s) 'Transported'"),
        (lambda s: s.rename(columns={"PassengerId": "id"}), "missing column(s) 'PassengerId'"),
        (lambda s: s.iloc[1:], "rows, expected 870"),
        (lambda s: s.assign(PassengerId=s["PassengerId"].where(s.index != s.index[0], "9999_99")),
         "unknown id"),
        (lambda s: s.assign(PassengerId=s["PassengerId"].where(
            s.index != s.index[0], s["PassengerId"].iloc[1])), "duplicate"),
        # Refused by the check that the validator shares, before any metric sees it.
        (lambda s: s.assign(Transported=s["Transported"].map({True: "yes", False: "no"})),
         "must hold booleans"),
        (lambda s: s.assign(Transported=s["Transported"].where(s.index != s.index[0], None)),
         "empty"),
    ],
    ids=["no-target", "no-id", "missing-row", "unknown-id", "duplicate-id", "text", "empty-cell"],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, perfect, change, reason):
    assert reason in (verdict(change(perfect)) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("titanic") == []
