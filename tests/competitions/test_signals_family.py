"""Signals, audio, time-series and scientific-table competitions: the places where grading or
preparation knowingly differs from MLE-bench (each recorded in the competition's known_issues),
on the synthetic raw data of tests/fixtures."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from fixtures import FixtureSource, load
from mlepipe.grading.checks import InvalidSubmission
from mlepipe.grading.scoring import load_answers, score_frames
from mlepipe.prepare import prepare

# --------------------------------------------------------------------------------------------
# Prepared fixtures


@pytest.fixture(scope="module")
def data(tmp_path_factory, registry):
    """Prepares a competition from its synthetic raw data, once per module."""
    prepared: dict[str, Path] = {}

    def get(competition_id: str):
        comp = registry.get(competition_id)
        if competition_id not in prepared:
            folder = tmp_path_factory.mktemp(competition_id[:30])
            prepare(comp, folder, FixtureSource(load(competition_id)), verify_reference=False)
            prepared[competition_id] = folder
        return comp, prepared[competition_id]

    return get


def _score(comp, submission: pd.DataFrame, folder: Path) -> float:
    return score_frames(submission, load_answers(comp.answers_path(folder)), comp)


def test_volcanic_refuses_a_repeated_segment_that_mlebench_accepts(data):
    comp, folder = data("predict-volcanic-eruptions-ingv-oe")
    answers = load_answers(comp.answers_path(folder))
    repeated = pd.concat([answers, answers.iloc[:1]], ignore_index=True)
    with pytest.raises(InvalidSubmission):
        _score(comp, repeated, folder)
    assert _score(comp, answers, folder) == 0.0


def test_volcanic_score_is_the_mae_rounded_to_an_integer(data):
    comp, folder = data("predict-volcanic-eruptions-ingv-oe")
    answers = load_answers(comp.answers_path(folder))
    off = answers.assign(time_to_eruption=answers["time_to_eruption"] + 2.6)
    assert _score(comp, off, folder) == 3.0


def test_champs_structures_cover_test_molecules_and_extra_tables_do_not(data):
    comp, folder = data("champs-scalar-coupling")
    public = comp.public_dir(folder)
    test_molecules = set(pd.read_csv(public / "test.csv")["molecule_name"])
    train_molecules = set(pd.read_csv(public / "train.csv")["molecule_name"])
    assert test_molecules and not test_molecules & train_molecules
    assert test_molecules <= set(pd.read_csv(public / "structures.csv")["molecule_name"])
    assert all((public / "structures" / f"{m}.xyz").is_file() for m in test_molecules)
    assert set(pd.read_csv(public / "mulliken_charges.csv")["molecule_name"]) == train_molecules


def test_champs_score_is_the_mean_over_types_of_log_mae(data):
    comp, folder = data("champs-scalar-coupling")
    answers = load_answers(comp.answers_path(folder))
    shift = answers["type"].map({"1JHC": 1.0, "2JHH": 2.0, "3JHC": 4.0})
    off = answers.assign(scalar_coupling_constant=answers["scalar_coupling_constant"] + shift)
    assert _score(comp, off, folder) == pytest.approx(np.mean(np.log([1.0, 2.0, 4.0])))


def test_ventilator_expiratory_rows_are_not_scored(data):
    comp, folder = data("ventilator-pressure-prediction")
    answers = load_answers(comp.answers_path(folder))
    exhaling = answers["u_out"] == 1
    assert exhaling.any()
    wrong_outside = answers.assign(pressure=answers["pressure"].where(~exhaling, 1e6))
    assert _score(comp, wrong_outside[["id", "pressure"]], folder) == 0.0


def test_stanford_rows_in_any_order_score_like_the_sample_order(data):
    comp, folder = data("stanford-covid-vaccine")
    answers = load_answers(comp.answers_path(folder))
    noisy = answers.drop(columns=["keep"])
    noisy["reactivity"] += np.random.default_rng(0).normal(0, 0.3, len(noisy))
    shuffled = noisy.sample(frac=1, random_state=1)
    assert _score(comp, shuffled, folder) == pytest.approx(_score(comp, noisy, folder))


def test_stanford_requires_the_unscored_columns(data):
    comp, folder = data("stanford-covid-vaccine")
    answers = load_answers(comp.answers_path(folder))
    with pytest.raises(InvalidSubmission, match="deg_pH10"):
        _score(comp, answers.drop(columns=["keep", "deg_pH10"]), folder)


def test_smartphone_rows_are_paired_by_trip_and_time_not_position(data):
    comp, folder = data("smartphone-decimeter-2022")
    answers = load_answers(comp.answers_path(folder))
    assert _score(comp, answers.sample(frac=1, random_state=0), folder) == 0.0
    public_test = comp.public_dir(folder) / "test"
    assert not list(public_test.rglob("ground_truth.csv"))


def test_hms_windows_of_an_eeg_are_paired_in_order_whatever_the_eeg_order(data):
    comp, folder = data("hms-harmful-brain-activity-classification")
    answers = load_answers(comp.answers_path(folder))
    votes = answers.filter(like="_vote")
    perfect = pd.concat([answers[["eeg_id"]], votes.div(votes.sum(axis=1), axis=0)], axis=1)
    by_eeg_descending = perfect.sort_values("eeg_id", ascending=False, kind="stable")
    assert _score(comp, by_eeg_descending, folder) == pytest.approx(0.0, abs=1e-9)

    # two windows of one EEG with different votes, swapped: now each meets the other's answer
    for _, rows in perfect.groupby("eeg_id").groups.items():
        if len(rows) > 1 and not np.allclose(perfect.loc[rows[0]], perfect.loc[rows[1]]):
            break
    else:
        pytest.fail("the fixture has no EEG with two differently voted windows")
    swapped = perfect.copy()
    swapped.loc[[rows[0], rows[1]]] = perfect.loc[[rows[1], rows[0]]].to_numpy()
    assert _score(comp, swapped, folder) > 0.01


def test_hms_refuses_extra_columns(data):
    comp, folder = data("hms-harmful-brain-activity-classification")
    sample = pd.read_csv(comp.sample_submission_path(folder))
    with pytest.raises(InvalidSubmission, match="unexpected column"):
        _score(comp, sample.assign(note=0.0), folder)


def test_freesound_accepts_class_columns_in_another_order(data):
    comp, folder = data("freesound-audio-tagging-2019")
    answers = load_answers(comp.answers_path(folder))
    columns = list(answers.columns)
    reordered = answers[[*reversed(columns[1:]), columns[0]]]
    assert _score(comp, reordered, folder) == pytest.approx(1.0)
    with pytest.raises(InvalidSubmission):
        _score(comp, answers.assign(extra=0), folder)


def test_freesound_answers_hold_only_private_clips(data):
    comp, folder = data("freesound-audio-tagging-2019")
    answers = load_answers(comp.answers_path(folder))
    sample = pd.read_csv(comp.sample_submission_path(folder))
    assert sorted(answers["fname"]) == sorted(sample["fname"])
    assert not (comp.public_dir(folder) / "FSDKaggle2019.meta.zip").exists()


def test_icecube_parquet_tables_hold_the_rows_of_the_split_batches(data):
    comp, folder = data("icecube-neutrinos-in-deep-ice")
    raw, public = comp.raw_dir(folder), comp.public_dir(folder)
    meta = pd.read_parquet(raw / "train_meta.parquet")
    train_batches, test_batches = train_test_split(
        meta["batch_id"].unique(), test_size=0.1, random_state=0
    )
    expected_train = meta[meta["batch_id"].isin(train_batches)].reset_index(drop=True)
    expected_test = meta[meta["batch_id"].isin(test_batches)].reset_index(drop=True)
    assert pd.read_parquet(public / "train_meta.parquet").equals(expected_train)
    assert pd.read_parquet(public / "test_meta.parquet").equals(
        expected_test.drop(columns=["azimuth", "zenith"])
    )
    answers = load_answers(comp.answers_path(folder))
    assert answers["event_id"].tolist() == expected_test["event_id"].tolist()
    assert sorted(p.name for p in (public / "test").iterdir()) == [
        f"batch_{b}.parquet" for b in sorted(test_batches)
    ]


def test_icecube_streams_in_chunks_with_the_same_output(data, tmp_path, monkeypatch):
    comp, folder = data("icecube-neutrinos-in-deep-ice")
    module = comp.module("prepare.py")
    monkeypatch.setattr(module, "CHUNK_ROWS", 7)
    (tmp_path / "public").mkdir()
    (tmp_path / "private").mkdir()
    module.prepare(comp.raw_dir(folder), tmp_path / "public", tmp_path / "private")
    for name in ("public/sample_submission.csv", "private/test.csv"):
        assert (tmp_path / name).read_bytes() == (comp.prepared_dir(folder) / name).read_bytes()
    chunked = pd.read_parquet(tmp_path / "public" / "train_meta.parquet")
    assert chunked.equals(pd.read_parquet(comp.public_dir(folder) / "train_meta.parquet"))


def test_ml2021_feature_files_are_the_bytes_np_save_writes(data):
    comp, folder = data("ml2021spring-hw2")
    raw = comp.raw_dir(folder) / "timit_11" / "timit_11"
    public = comp.public_dir(folder) / "timit_11" / "timit_11"
    features = np.load(raw / "train_11.npy")
    n_old_test = len(np.load(raw / "test_11.npy"))
    share = n_old_test / (len(features) + n_old_test)
    train_rows, test_rows = train_test_split(range(len(features)), test_size=share, random_state=0)
    for name, rows in (("train_11.npy", train_rows), ("test_11.npy", test_rows)):
        expected = Path(folder) / f"expected_{name}"
        np.save(expected, features[rows])
        assert (public / name).read_bytes() == expected.read_bytes()


def test_whale_split_is_by_day_and_renumbers_clips(data):
    comp, folder = data("the-icml-2013-whale-challenge-right-whale-redux")
    public = comp.public_dir(folder)
    with (
        zipfile.ZipFile(public / "train2.zip") as train,
        zipfile.ZipFile(public / "test2.zip") as test,
    ):
        train_names = [n.split("/")[1] for n in train.namelist() if n.endswith(".aif")]
        test_names = [n.split("/")[1] for n in test.namelist() if n.endswith(".aif")]
    assert {n[:8] for n in train_names}.isdisjoint({n[:8] for n in test_names})
    assert max(n[:8] for n in train_names) < min(n[:8] for n in test_names)
    assert [n.split("_")[3] for n in train_names] == [f"TRAIN{i}" for i in range(len(train_names))]
    answers = load_answers(comp.answers_path(folder))
    assert answers["clip"].tolist() == test_names
