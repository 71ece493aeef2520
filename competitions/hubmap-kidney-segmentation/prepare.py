"""Splits the 15 labelled kidney images into 12 for training and 3 for testing (random_state 0).

Each image comes with a TIFF, its glomerulus polygons (`<id>.json`) and its anatomical structure
polygons (`<id>-anatomical-structure.json`), all copied unchanged. The answers keep each test
image's size, which decoding the run-length encoded masks needs.

Unlike MLE-bench, the glomerulus polygons of the test images are not published: they are the
answers in another format (MLE-bench's own notes say they should be removed).
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_file, read_csv, require_columns

INFO = "HuBMAP-20-dataset_information.csv"


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train.csv")
    require_columns(labels, ["id", "encoding"], "train.csv")
    info = read_csv(raw / INFO)
    require_columns(info, ["image_file", "width_pixels", "height_pixels"], INFO)

    train, test = train_test_split(labels, train_size=12, test_size=3, random_state=0)
    image_id = info["image_file"].str.replace(".tiff", "")
    info_labelled = info[image_id.isin(labels["id"])]
    sizes = info_labelled[["width_pixels", "height_pixels"]].assign(id=image_id)
    answers = test.merge(sizes[["id", "width_pixels", "height_pixels"]], on="id")

    info_labelled.to_csv(public / INFO, index=False)
    train.to_csv(public / "train.csv", index=False)
    answers.to_csv(private / "test.csv", index=False)
    sample = answers[["id"]].assign(predicted="")
    sample.to_csv(public / "sample_submission.csv", index=False)
    sample.assign(predicted=answers["encoding"]).to_csv(
        private / "gold_submission.csv", index=False
    )

    for part, frame, names in (
        ("train", train, ("{}.tiff", "{}.json", "{}-anatomical-structure.json")),
        ("test", test, ("{}.tiff", "{}-anatomical-structure.json")),
    ):
        (public / part).mkdir(exist_ok=True)
        for image in frame["id"]:
            for pattern in names:
                name = pattern.format(image)
                copy_file(raw / "train" / name, public / part / name)
    copy_file(public / "sample_submission.csv", public / "test" / "sample_submission.csv")
