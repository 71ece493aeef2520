"""denoising-dirty-documents prepared from its original Kaggle download: the page images of
each split, the per-pixel answers, and its grading verdicts (RMSE).

The answers hold one row per pixel (5.8 million): the tests share one loaded copy.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mlepipe.grading.checks import InvalidSubmission, check_against_sample
from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "denoising-dirty-documents"


def test_pages_are_split_and_copied_byte_for_byte(competition, original_zip, data_dir):
    public = competition.public_dir(data_dir)
    names = {d: sorted(p.name for p in (public / d).iterdir()) for d in
             ("train", "train_cleaned", "test")}  # fmt: skip
    assert len(names["train"]) == 115 and len(names["test"]) == 29
    assert names["train"] == names["train_cleaned"]
    assert set(names["train"]).isdisjoint(names["test"])
    assert not any(competition.private_dir(data_dir).glob("*.png"))
    with zipfile.ZipFile(original_zip) as outer:
        noisy = zipfile.ZipFile(io.BytesIO(outer.read("train.zip")))
        cleaned = zipfile.ZipFile(io.BytesIO(outer.read("train_cleaned.zip")))
        for name in names["test"][:3]:
            assert (public / "test" / name).read_bytes() == noisy.read(f"train/{name}")
        for name in names["train"][:3]:
            assert (public / "train" / name).read_bytes() == noisy.read(f"train/{name}")
            assert (public / "train_cleaned" / name).read_bytes() == cleaned.read(
                f"train_cleaned/{name}"
            )


def test_answers_hold_every_pixel_of_the_cleaned_test_pages(
    competition, original_zip, data_dir, answers
):
    assert list(answers.columns) == ["id", "value"]
    # Page 110 comes first; its first row is row 1, column 1..width, top-left first.
    with zipfile.ZipFile(original_zip) as outer:
        cleaned = zipfile.ZipFile(io.BytesIO(outer.read("train_cleaned.zip")))
        page = np.asarray(Image.open(io.BytesIO(cleaned.read("train_cleaned/110.png"))))
    height, width = page.shape
    first = answers.iloc[: height * width]
    assert first["id"].iloc[width + 1] == "110_2_2"
    np.testing.assert_array_equal(first["value"].to_numpy(), page.ravel() / 255.0)
    sizes = [Image.open(p).size for p in (competition.public_dir(data_dir) / "test").iterdir()]
    assert len(answers) == sum(w * h for w, h in sizes) == 5_789_880


def test_sample_submission_scores_white_pages(sample_grading, answers):
    expected = np.sqrt(np.mean((1.0 - answers["value"].to_numpy()) ** 2))
    assert sample_grading.score == pytest.approx(expected, abs=1e-12)
    assert sample_grading.report.score == round_score(expected)
    assert sample_grading.report.is_lower_better


def test_rows_in_another_order_are_paired_by_id(competition, answers):
    assert score_frames(answers.iloc[::-1], answers, competition) == 0.0


def test_a_few_swapped_rows_are_paired_by_id(competition, answers):
    swapped = answers.iloc[[3, 1, 2, 0, *range(4, len(answers))]]
    assert score_frames(swapped, answers, competition) == 0.0


def test_a_few_wrong_pixels_give_the_hand_computed_rmse(competition, answers):
    sub = answers.copy()
    sub.loc[:99, "value"] += 0.5  # 100 pixels off by 0.5
    expected = np.sqrt(100 * 0.25 / len(answers))
    assert score_frames(sub, answers, competition) == pytest.approx(expected, abs=1e-12)


def test_values_outside_zero_one_and_extra_columns_are_accepted(verdict, answers):
    assert verdict(answers.assign(value=answers["value"] * 2 - 0.5, page="x")) is None


def _replace_first_id(frame: pd.DataFrame, new_id: str) -> pd.DataFrame:
    ids = frame["id"].copy()
    ids.iloc[0] = new_id
    return frame.assign(id=ids)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["value"]), "missing column(s) ['value']"),
        (lambda s: s.rename(columns={"id": "pixel"}), "missing column(s) ['id']"),
        (lambda s: s.iloc[1:], "rows, expected 5789880"),
        (lambda s: _replace_first_id(s, "999_1_1"), "'999_1_1' in place of '110_1_1'"),
        (lambda s: _replace_first_id(s, s["id"].iloc[1]), "duplicate id(s) '110_1_2'"),
        # Rows in another order are paired by sorting: the same faults, found another way.
        (lambda s: _replace_first_id(s.iloc[::-1], "0_1_1"), "unknown id '0_1_1'"),
        (lambda s: _replace_first_id(s.iloc[::-1], "110_1_1"), "duplicate id(s) '110_1_1'"),
        (lambda s: s.assign(value=s["value"].astype(object).where(s.index != 5, "dark")),
         "non-numeric value(s) 'dark'"),
        (lambda s: s.assign(value=s["value"].where(s.index != 5, np.nan)), "NaN"),
        (lambda s: s.assign(value=s["value"].where(s.index != 5, np.inf)), "infinite"),
    ],
    ids=["missing-value", "missing-id", "missing-row", "unknown-id", "duplicate-id",
         "unknown-id-reordered", "duplicate-id-reordered", "text", "nan", "inf"],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, answers, change, reason):
    assert reason in (verdict(change(answers)) or "valid")


def test_the_public_check_refuses_what_grading_refuses(competition, sample_grading):
    sample = sample_grading.frame
    with pytest.raises(InvalidSubmission, match="duplicate id"):
        check_against_sample(_replace_first_id(sample, sample["id"].iloc[1]), sample, competition)
    with pytest.raises(InvalidSubmission, match="rows, expected"):
        check_against_sample(sample.iloc[1:], sample, competition)


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("dirty", "uci") == []
