"""aerial-cactus-identification prepared from its original Kaggle download: the image zips of
each split, and its grading verdicts (AUC)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "aerial-cactus-identification"


@pytest.fixture
def perfect(answers) -> pd.DataFrame:
    return answers.astype({"has_cactus": float})


def test_image_zips_hold_exactly_each_split_with_original_bytes(
    competition, original_zip, data_dir, answers
):
    public = competition.public_dir(data_dir)
    train = pd.read_csv(public / "train.csv")
    assert len(train) == 14175 and len(answers) == 3325
    assert sorted(p.name for p in public.iterdir()) == [
        "description.md", "sample_submission.csv", "test.zip", "train.csv", "train.zip",
    ]  # fmt: skip
    with (
        zipfile.ZipFile(original_zip) as outer,
        zipfile.ZipFile(io.BytesIO(outer.read("train.zip"))) as original,
    ):
        for name, frame in (("train.zip", train), ("test.zip", answers)):
            with zipfile.ZipFile(public / name) as packed:
                assert sorted(packed.namelist()) == sorted(frame["id"])
                for ident in frame["id"].iloc[:: len(frame) // 10]:
                    assert packed.read(ident) == original.read(f"train/{ident}")


def test_sample_submission_scores_one_half(sample_grading):
    assert sample_grading.score == 0.5 and sample_grading.report.score == 0.5
    assert not sample_grading.report.is_lower_better


def test_one_missed_cactus_ties_with_every_negative(competition, answers, perfect):
    positive = perfect.index[perfect["has_cactus"] == 1][0]
    perfect.loc[positive, "has_cactus"] = 0.0
    # That positive ties with all negatives: half of its pairs count, so AUC = 1 - 0.5 / P.
    n_pos = int(answers["has_cactus"].sum())
    assert score_frames(perfect, answers, competition) == pytest.approx(1 - 0.5 / n_pos, abs=1e-12)


def test_rows_are_paired_by_id_and_extra_columns_ignored(competition, answers, perfect):
    shuffled = perfect.sample(frac=1.0, random_state=1).assign(note="x")
    assert score_frames(shuffled, answers, competition) == 1.0


def test_inverted_predictions_score_zero(competition, answers, perfect):
    inverted = perfect.assign(has_cactus=1 - perfect["has_cactus"])
    assert round_score(score_frames(inverted, answers, competition)) == 0.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["has_cactus"]), "missing column(s) 'has_cactus'"),
        (lambda s: s.rename(columns={"id": "image"}), "missing column(s) 'id'"),
        (lambda s: s.iloc[1:], "rows, expected 3325"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], "nowhere.jpg")), "unknown id"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], s["id"].iloc[1])), "duplicate"),
        (lambda s: s.assign(has_cactus=s["has_cactus"] * 2), "probabilities in [0, 1]"),
        (lambda s: s.assign(has_cactus=s["has_cactus"] - 0.5), "probabilities in [0, 1]"),
        (lambda s: s.assign(has_cactus="yes"), "non-numeric"),
        (lambda s: s.assign(has_cactus=np.nan), "NaN"),
    ],
    ids=[
        "missing-target", "missing-id", "missing-row", "unknown-id", "duplicate-id",
        "above-one", "below-zero", "text", "nan",
    ],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, perfect, change, reason):
    assert reason in (verdict(change(perfect)) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("vigia", "kernel") == []
