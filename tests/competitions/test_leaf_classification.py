"""leaf-classification prepared from its original Kaggle download: one-hot answers over 99
species, the leaf images, and its grading verdicts (multi-class log loss)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "leaf-classification"


@pytest.fixture(scope="module")
def classes(answers) -> list[str]:
    return [c for c in answers.columns if c != "id"]


@pytest.fixture
def perfect(answers, classes) -> pd.DataFrame:
    return answers.astype({c: float for c in classes})


def test_answers_are_one_hot_over_99_sorted_species(answers, classes):
    assert len(classes) == 99 and classes == sorted(classes)
    assert len(answers) == 99
    assert (answers[classes].sum(axis=1) == 1).all()
    # No test leaf is Acer_Mono: the verdict cases below shift that column's zeros.
    assert answers["Acer_Mono"].sum() == 0


def test_images_of_both_sets_are_copied_byte_for_byte(competition, original_zip, data_dir):
    public = competition.public_dir(data_dir)
    ids = [*pd.read_csv(public / "train.csv")["id"], *pd.read_csv(public / "test.csv")["id"]]
    images = public / "images"
    assert sorted(p.name for p in images.iterdir()) == sorted(f"{i}.jpg" for i in ids)
    with zipfile.ZipFile(original_zip) as outer:
        with zipfile.ZipFile(io.BytesIO(outer.read("images.zip"))) as inner:
            for ident in ids[:: len(ids) // 10]:
                assert (images / f"{ident}.jpg").read_bytes() == inner.read(f"images/{ident}.jpg")


def test_sample_submission_scores_log_99(sample_grading):
    # Every species gets 1/99, so each leaf costs -log(1/99).
    assert sample_grading.score == pytest.approx(np.log(99), abs=1e-12)
    assert sample_grading.report.score == round_score(np.log(99)) == 4.59512
    assert sample_grading.report.is_lower_better


def test_one_halved_row_costs_its_log_probability(competition, answers, classes, perfect):
    row = perfect.index[0]
    true_col = classes[int(np.argmax(perfect.loc[row, classes].to_numpy()))]
    other = next(c for c in classes if c != true_col)
    perfect.loc[row, [true_col, other]] = 0.5
    # Every other row is certain and right, costing -log(1 - eps) ~ 2e-16 each.
    assert score_frames(perfect, answers, competition) == pytest.approx(
        -np.log(0.5) / len(perfect), abs=1e-12
    )


def test_rows_and_columns_are_matched_by_name_not_position(competition, answers, classes):
    shuffled = answers.sample(frac=1.0, random_state=1)[[*classes[::-1], "id"]]
    assert round_score(score_frames(shuffled, answers, competition)) == 0.0


def test_row_sums_within_mlebench_tolerance_are_accepted(verdict, classes, perfect):
    # MLE-bench's np.isclose(sum, 1, atol=1e-6) also allows rtol=1e-5: up to 1.1e-5 passes.
    perfect[classes] = 1 / 99
    perfect[classes[0]] += 1e-5
    assert verdict(perfect) is None
    perfect[classes[0]] += 1e-5
    assert "do not sum to 1" in verdict(perfect)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["Zelkova_Serrata"]), "missing column(s) 'Zelkova_Serrata'"),
        (lambda s: s.assign(species="x"), "unexpected column(s) 'species'"),
        (lambda s: s.iloc[1:], "rows, expected 99"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], -5)), "unknown id"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], s["id"].iloc[1])), "duplicate"),
        # Rows still sum to one, but hold 1.5 or -0.5.
        (lambda s: s.assign(Acer_Mono=s["Acer_Mono"] + 0.5, Acer_Rubrum=s["Acer_Rubrum"] - 0.5),
         "probabilities in [0, 1]"),
        (lambda s: s.assign(Acer_Mono=s["Acer_Mono"] + 0.5), "do not sum to 1"),
        (lambda s: s.assign(Acer_Mono=s["Acer_Mono"] + 2e-5), "do not sum to 1"),
        (lambda s: s.assign(Acer_Mono="low"), "non-numeric"),
    ],
    ids=[
        "missing-class", "extra-column", "missing-row", "unknown-id", "duplicate-id",
        "out-of-range", "sum-1.5", "sum-off-by-2e-5", "text",
    ],
)  # fmt: skip
def test_invalid_submissions_are_refused_with_a_reason(verdict, perfect, change, reason):
    assert reason in (verdict(change(perfect)) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("leaf classification", "kew") == []
