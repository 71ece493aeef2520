"""nomad2018-predict-transparent-conductors prepared from its original Kaggle download: renumbered
ids, one geometry per material (old id 757's quirk included), and its grading verdicts (mean
column-wise RMSLE)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlepipe.grading.scoring import round_score, score_frames

COMPETITION_ID = "nomad2018-predict-transparent-conductors"
TARGETS = ["formation_energy_ev_natom", "bandgap_energy_ev"]


@pytest.fixture
def perfect(answers) -> pd.DataFrame:
    return answers[["id", *TARGETS]].copy()


def rmsle(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.log1p(pred) - np.log1p(true)) ** 2)))


def test_ids_are_renumbered_from_one_and_every_material_has_one_geometry(
    competition, data_dir, answers
):
    public = competition.public_dir(data_dir)
    train = pd.read_csv(public / "train.csv")
    test = pd.read_csv(public / "test.csv")
    assert len(train) == 2160 and len(test) == len(answers) == 240
    assert TARGETS[0] not in test.columns
    for part, frame in (("train", train), ("test", test)):
        assert sorted(frame["id"]) == list(range(1, len(frame) + 1))
        folders = sorted(int(p.name) for p in (public / part).iterdir() if p.is_dir())
        assert folders == list(range(1, len(frame) + 1))
        assert all((public / part / str(i) / "geometry.xyz").is_file() for i in folders)


def test_old_id_757_gets_the_stray_tmp_geometry_as_mlebench_copies_it(
    competition, original_zip, data_dir
):
    # Old id 757 is new train id 2121; MLE-bench's sorted copy lets tmp_geometry.xyz win.
    with zipfile.ZipFile(original_zip) as outer:
        with zipfile.ZipFile(io.BytesIO(outer.read("train.zip"))) as inner:
            stray = inner.read("train/757/tmp_geometry.xyz")
            regular = inner.read("train/757/geometry.xyz")
    prepared = (competition.public_dir(data_dir) / "train" / "2121" / "geometry.xyz").read_bytes()
    assert prepared == stray != regular


def test_sample_submission_scores_its_constant_predictions(sample_grading, answers):
    expected = np.mean(
        [rmsle(np.full(len(answers), v), answers[t].to_numpy()) for t, v in
         zip(TARGETS, (0.1779, 1.8892), strict=True)]
    )  # fmt: skip
    assert sample_grading.score == pytest.approx(expected, abs=1e-12)
    assert sample_grading.report.score == round_score(expected)
    assert sample_grading.report.is_lower_better


def test_one_wrong_bandgap_costs_half_its_column_rmsle(competition, answers, perfect):
    perfect.loc[perfect.index[0], "bandgap_energy_ev"] += 1.0
    true = answers["bandgap_energy_ev"].iloc[0]
    column = abs(np.log1p(true + 1.0) - np.log1p(true)) / np.sqrt(len(answers))
    assert score_frames(perfect, answers, competition) == pytest.approx(column / 2, abs=1e-12)


def test_rows_are_paired_by_id_where_mlebench_pairs_them_by_position(competition, answers, perfect):
    shuffled = perfect.sample(frac=1.0, random_state=1)
    assert score_frames(shuffled, answers, competition) == 0.0


def test_a_submission_without_ids_is_refused_although_mlebench_accepts_it(verdict, perfect):
    assert "missing column(s) 'id'" in verdict(perfect.drop(columns=["id"]))


def test_extra_columns_are_ignored(verdict, perfect):
    assert verdict(perfect.assign(spacegroup=33)) is None


def test_small_negative_predictions_are_scored(verdict, perfect):
    assert verdict(perfect.assign(formation_energy_ev_natom=-0.5)) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.drop(columns=["bandgap_energy_ev"]), "missing column(s) 'bandgap_energy_ev'"),
        (lambda s: s.iloc[1:], "rows, expected 240"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], 9999)), "unknown id"),
        (lambda s: s.assign(id=s["id"].where(s.index != s.index[0], s["id"].iloc[1])), "duplicate"),
        (lambda s: s.assign(bandgap_energy_ev="big"), "non-numeric"),
        (lambda s: s.assign(bandgap_energy_ev=np.nan), "NaN"),
        (lambda s: s.assign(formation_energy_ev_natom=-1.0), "above -1"),
    ],
    ids=["missing-target", "missing-row", "unknown-id", "duplicate-id", "text", "nan", "minus-one"],
)
def test_invalid_submissions_are_refused_with_a_reason(verdict, perfect, change, reason):
    assert reason in (verdict(change(perfect)) or "valid")


def test_obfuscated_description_does_not_reveal_the_source(revealed):
    assert revealed("nomad") == []
