"""A 10% hold-out of spectrograms (with all their EEGs and labelled windows) from train.csv.

Spectrogram ids, in their order of appearance, are split by sklearn's train_test_split
(test_size=0.1, random_state=0); a spectrogram is coarser than an EEG, which is coarser than a
labelled window, so nothing is shared between the sides. The answers keep every column (the
expert votes); public/test.csv gives only spectrogram_id, eeg_id and patient_id per window. The
EEG and spectrogram parquet files are copied byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from mlepipe.preparers.io import copy_files, copy_tree, read_csv, write_csv
from mlepipe.preparers.splits import split_ids

VOTES = ["seizure_vote", "lpd_vote", "gpd_vote", "lrda_vote", "grda_vote", "other_vote"]


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train.csv")
    train_specs, test_specs = split_ids(
        labels["spectrogram_id"].unique(), test_size=0.1, random_state=0
    )
    train = labels[labels["spectrogram_id"].isin(train_specs)]
    test = labels[labels["spectrogram_id"].isin(test_specs)]
    write_csv(train, public / "train.csv")
    write_csv(test, private / "test.csv")
    write_csv(test[["spectrogram_id", "eeg_id", "patient_id"]], public / "test.csv")

    # The votes as probabilities: each window's votes divided by their sum.
    gold = test[["eeg_id", *VOTES]].copy()
    gold[VOTES] = gold[VOTES].div(gold[VOTES].sum(axis=1), axis=0)
    write_csv(gold, private / "gold_submission.csv")
    sample = gold.copy()
    sample[VOTES] = 1 / len(VOTES)
    write_csv(sample, public / "sample_submission.csv")

    copy_tree(raw / "example_figures", public / "example_figures")
    for side, frame in (("train", train), ("test", test)):
        eegs = [f"{i}.parquet" for i in frame["eeg_id"].unique()]
        copy_files(raw / "train_eegs", public / f"{side}_eegs", eegs)
        spectrograms = [f"{i}.parquet" for i in frame["spectrogram_id"].unique()]
        copy_files(raw / "train_spectrograms", public / f"{side}_spectrograms", spectrograms)
