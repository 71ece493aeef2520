"""Splits the labelled cassava photos into a new train and test set by TFRecord file.

Kaggle also ships the photos as 16 TFRecord files; 10% of those files (random_state 0) become
the test set, so that the public TFRecords of each set hold exactly its photos. The photos in the
test files (read from their `image_name` feature, without TensorFlow) are the test rows; both
sets keep the order of train.csv. Photos and TFRecord files are copied byte for byte, the files
renamed `ld_train<i>-<n>.tfrec` / `ld_test<i>-<n>.tfrec` (i counts from 00, n is the record count
from the original name).
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.images import tfrecord_ids
from mlepipe.preparers.io import copy_file, copy_files, read_csv


def _copy_records(files: list[Path], dest: Path, prefix: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(files):
        count = path.stem.split("-")[1]
        copy_file(path, dest / f"{prefix}{i:02d}-{count}.tfrec")


def prepare(raw: Path, public: Path, private: Path) -> None:
    records = sorted(
        p for p in (raw / "train_tfrecords").iterdir() if p.is_file() and p.suffix == ".tfrec"
    )
    if len(records) < 2:
        raise PreparationError(f"{raw / 'train_tfrecords'} holds too few .tfrec files to split")
    train_records, test_records = train_test_split(records, test_size=0.1, random_state=0)
    test_ids = {name for path in test_records for name in tfrecord_ids(path, "image_name")}

    labelled = read_csv(raw / "train.csv")
    in_test = labelled["image_id"].isin(test_ids)
    train, test = labelled[~in_test], labelled[in_test]

    train.to_csv(public / "train.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    test.assign(label=4).to_csv(public / "sample_submission.csv", index=False)
    _copy_records(train_records, public / "train_tfrecords", "ld_train")
    _copy_records(test_records, public / "test_tfrecords", "ld_test")
    copy_files(raw / "train_images", public / "train_images", train["image_id"])
    copy_files(raw / "train_images", public / "test_images", test["image_id"])
    copy_file(raw / "label_num_to_disease_map.json", public / "label_num_to_disease_map.json")
