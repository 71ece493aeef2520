"""random-acts-of-pizza prepared from its original Kaggle download: the public test requests,
and its grading verdicts (AUC)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mlepipe.grading.scoring import score_frames

COMPETITION_ID = "random-acts-of-pizza"
ID, TARGET = "request_id", "requester_received_pizza"


def test_public_test_has_kaggles_test_fields_and_zipped_copies(competition, data_dir, answers):
    public = competition.public_dir(data_dir)
    test = json.loads((public / "test.json").read_text())
    with zipfile.ZipFile(competition.zip_path(data_dir)) as kaggle:
        kaggle_test = json.loads(kaggle.read("test.json"))
    assert list(test[0]) == list(kaggle_test[0])
    assert TARGET not in test[0] and "requester_user_flair" not in test[0]
    assert [r[ID] for r in test] == answers[ID].tolist()
    for name in ("train", "test"):
        with zipfile.ZipFile(public / f"{name}.zip") as zf:
            assert zf.read(f"{name}.json") == (public / f"{name}.json").read_bytes()


def test_sample_submission_scores_chance(sample_grading):
    # constant scores: AUC one half
    assert sample_grading.score == 0.5 and sample_grading.report.score == 0.5
    assert not sample_grading.report.is_lower_better


def test_answers_as_submission_score_one_in_any_row_order(competition, answers):
    assert score_frames(answers.iloc[::-1].copy(), answers, competition) == 1.0


def test_one_swapped_pair_costs_one_pair_in_the_auc(competition, answers):
    # Hand-computed: with the answers as scores, ranking one negative above one positive puts
    # exactly 1 of the positives x negatives pairs in the wrong order.
    scores = answers[TARGET].astype(float) * 0.5 + 0.25  # positives 0.75, negatives 0.25
    pos = int(answers[TARGET].sum())
    neg = len(answers) - pos
    first_pos = answers.index[answers[TARGET] == 1][0]
    first_neg = answers.index[answers[TARGET] == 0][0]
    scores[first_pos], scores[first_neg] = 0.0, 1.0
    # That positive is now below all negatives, that negative above all positives:
    wrong_pairs = neg + pos - 1
    sub = answers.assign(**{TARGET: scores})
    assert score_frames(sub, answers, competition) == pytest.approx(1 - wrong_pairs / (pos * neg))


def test_extra_columns_are_ignored(competition, answers):
    assert score_frames(answers.assign(note="x"), answers, competition) == 1.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=[TARGET]), f"missing column(s) '{TARGET}'"),
        (lambda s: s.rename(columns={ID: "id"}), f"missing column(s) '{ID}'"),
        (lambda s: s.iloc[1:], "rows, expected 1162"),
        (lambda s: s.assign(**{ID: s[ID].where(s.index != 0, "t3_nowhere")}), "unknown id"),
        (lambda s: s.assign(**{ID: s[ID].where(s.index != 0, s[ID].iloc[1])}), "duplicate"),
        (lambda s: s.assign(**{TARGET: s[TARGET] * 2.0}), "probabilities in [0, 1]"),
        (lambda s: s.assign(**{TARGET: s[TARGET] - 0.5}), "probabilities in [0, 1]"),
        (lambda s: s.assign(**{TARGET: s[TARGET].where(s.index != 0, np.nan)}), "NaN"),
        (lambda s: s.assign(**{TARGET: "yes"}), "non-numeric"),
    ],
    ids=[
        "no-target", "no-id", "missing-row", "unknown-id", "duplicate-id", "above-one",
        "below-zero", "nan", "text",
    ],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, answers, change, reason):
    assert reason in (verdict(change(answers.copy())) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("reddit", "random acts") == []
