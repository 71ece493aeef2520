"""Splits the labelled camera-trap images by camera location into a new train and test set.

22% of the locations (train_test_split of the unique locations, random_state 0) start in the
test set; then, as in MLE-bench's preparation, whole locations move (the last one of a list
first) until len(test images) / (len(all images) + len(test images)) is just at or below 0.22.

The metadata JSON files are rebuilt through pandas tables (`to_dict("records")`), as
MLE-bench does, with pandas 2's type inference (no string dtype), so that the bytes match.
Images are copied byte for byte into public/train/ and public/test/.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_files, read_json, write_json

TEST_SHARE = 0.22  # 62894 / (217959 + 62894), the size of Kaggle's own test set


def split_locations(images: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Train and test locations, balanced the way MLE-bench's preparation does it."""
    train, test = train_test_split(
        images["location"].unique(), test_size=TEST_SHARE, random_state=0
    )
    total = len(images)

    def share(test_locations: np.ndarray) -> float:
        return int(images["location"].isin(test_locations).sum()) / (
            total + int(images["location"].isin(test_locations).sum())
        )

    while share(test) < TEST_SHARE:
        if len(train) == 0:
            raise PreparationError("cannot balance the split: every location is in the test set")
        train, test = train[:-1], np.append(test, train[-1])
    while share(test) > TEST_SHARE:
        train, test = np.append(train, test[-1]), test[:-1]
    return train, test


def records(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict(orient="records")


@contextlib.contextmanager
def pandas2_types() -> Iterator[None]:
    """Text columns as object columns, as pandas 2 built them: a JSON null in a text field stays
    null instead of becoming NaN. pandas 3 still accepts the switch (with a deprecation warning);
    where it is gone, pandas' own inference is used."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            context = pd.option_context("future.infer_string", False)
            context.__enter__()
        except (KeyError, ValueError, pd.errors.OptionError):
            context = None
    try:
        yield
    finally:
        if context is not None:
            context.__exit__(None, None, None)


def prepare(raw: Path, public: Path, private: Path) -> None:
    train_json = read_json(raw / "iwildcam2020_train_annotations.json")
    test_json = read_json(raw / "iwildcam2020_test_information.json")
    with pandas2_types():
        annotations = pd.DataFrame(train_json["annotations"])
        images = pd.DataFrame(train_json["images"])
        train_categories = pd.DataFrame(train_json["categories"])
        test_categories = pd.DataFrame(test_json["categories"])

        train_locations, test_locations = split_locations(images)
        train_images = images[images["location"].isin(train_locations)]
        test_images = images[images["location"].isin(test_locations)]
        train_ids, test_ids = train_images["id"].unique(), test_images["id"].unique()
        train_annotations = annotations[annotations["image_id"].isin(train_ids)]
        test_annotations = annotations[annotations["image_id"].isin(test_ids)]

        answers = test_annotations[["image_id", "category_id"]].rename(
            columns={"image_id": "Id", "category_id": "Category"}
        )
        answers.to_csv(private / "answers.csv", index=False)
        # the legacy global generator seeded 0, as np.random.seed(0) + np.random.randint
        guesses = np.random.RandomState(0).randint(0, 676, size=len(answers))
        answers.assign(Category=guesses).to_csv(public / "sample_submission.csv", index=False)

        new_train = {
            "annotations": records(train_annotations),
            "images": records(train_images),
            "categories": records(train_categories),
            "info": train_json["info"],
        }
        new_test = {
            "images": records(test_images),
            "categories": records(test_categories),
            "info": test_json["info"],
        }
    write_json(public / "iwildcam2020_train_annotations.json", new_train)
    write_json(public / "iwildcam2020_test_information.json", new_test)
    del train_json, test_json, new_train, new_test
    shutil.copyfile(
        raw / "iwildcam2020_megadetector_results.json",
        public / "iwildcam2020_megadetector_results.json",
    )

    (public / "train").mkdir()
    (public / "test").mkdir()
    copy_files(raw / "train", public / "train", [f"{i}.jpg" for i in train_ids])
    copy_files(raw / "train", public / "test", [f"{i}.jpg" for i in test_ids])
