"""Splits the labelled skin lesion images into a new train and test set by TFRecord file.

Kaggle also ships the training images as 16 TFRecord files of about 2,071 images each; the images
of two of them (train00 and train06, about 10%) become the test set, read from the records'
`image_name` feature without TensorFlow. Both sets keep the order of train.csv. The DICOM files,
JPEGs and TFRecord files are copied byte for byte: public/train/, public/test/ (DICOM),
public/jpeg/{train,test}/ and public/tfrecords/ (train<i>-<n>.tfrec and test<i>-<n>.tfrec,
numbered from 00 in name order; n is the record count from the original name).
"""

from __future__ import annotations

from pathlib import Path

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.images import tfrecord_ids
from mlepipe.preparers.io import copy_file, copy_files, read_csv

TEST_RECORDS = ("train00-2071.tfrec", "train06-2071.tfrec")
PUBLIC_TEST_COLUMNS = [
    "image_name",
    "patient_id",
    "sex",
    "age_approx",
    "anatom_site_general_challenge",
]


def prepare(raw: Path, public: Path, private: Path) -> None:
    records = raw / "tfrecords"
    missing = [name for name in TEST_RECORDS if not (records / name).is_file()]
    if missing:
        raise PreparationError(f"{records} lacks {missing}; the download looks incomplete")
    test_ids = {
        image for name in TEST_RECORDS for image in tfrecord_ids(records / name, "image_name")
    }

    labelled = read_csv(raw / "train.csv")
    in_test = labelled["image_name"].isin(test_ids)
    train, test = labelled[~in_test], labelled[in_test]

    train.to_csv(public / "train.csv", index=False)
    test[PUBLIC_TEST_COLUMNS].to_csv(public / "test.csv", index=False)
    test[["image_name", "target"]].assign(target=0).to_csv(
        public / "sample_submission.csv", index=False
    )
    test[["image_name", "target"]].to_csv(private / "test.csv", index=False)

    for part, frame in (("train", train), ("test", test)):
        copy_files(raw / "train", public / part, (f"{n}.dcm" for n in frame["image_name"]))
        copy_files(
            raw / "jpeg" / "train",
            public / "jpeg" / part,
            (f"{n}.jpg" for n in frame["image_name"]),
        )

    counters = {"train": 0, "test": 0}
    for path in sorted(records.glob("train*.tfrec")):
        part = "test" if path.name in TEST_RECORDS else "train"
        count = path.stem.split("-")[1]
        copy_file(path, public / "tfrecords" / f"{part}{counters[part]:02d}-{count}.tfrec")
        counters[part] += 1
