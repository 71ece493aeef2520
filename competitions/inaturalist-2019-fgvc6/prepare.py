"""Splits every species' training images 88/12 into a new train and test set and repacks the
images into two uncompressed tar archives, streamed member by member from Kaggle's
train_val2019.tar.gz (never extracted to disk).

Per species (train_test_split, random_state 0): one image stays in train; 2 to 4 images give
their last one to test. Test images are shuffled (random.Random(0)) and keep their ids; their
file names become `test2019/<file>`, hiding the species folder. val2019.json is copied as it is.
Archive members are named relative to their folder: `Plants/400/<file>.jpg` in
train_val2019.tar.gz, `<file>.jpg` in test2019.tar.gz (both plain tar despite the name).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd

from mlepipe.preparers.collections import pairs_by_category, shuffled_test, split_tar
from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import read_json, write_json
from mlepipe.preparers.splits import split_within_groups

TEST_SIZE = 0.12  # the original test set is 12% the size of train + val
TRAIN_DIR, TEST_DIR = "train_val2019", "test2019"


def prepare(raw: Path, public: Path, private: Path) -> None:
    metadata = read_json(raw / "train2019.json")
    train, test = split_within_groups(pairs_by_category(metadata), TEST_SIZE, small_groups=True)

    train_pairs = [pair for pairs in train.values() for pair in pairs]
    metadata["annotations"] = [a for a, _ in train_pairs]
    metadata["images"] = [i for _, i in train_pairs]
    write_json(public / "train2019.json", metadata, indent=4, sort_keys=True)
    shutil.copyfile(raw / "val2019.json", public / "val2019.json")

    routes: dict[str, tuple[str, str]] = {}
    for _, image in train_pairs:
        routes[image["file_name"]] = ("train", image["file_name"].split("/", 1)[1])
    test_images, answers = [], []
    for annotation, image in shuffled_test(test):
        base = image["file_name"].split("/")[-1]
        routes[image["file_name"]] = ("test", base)
        test_images.append({**image, "file_name": f"{TEST_DIR}/{base}"})
        answers.append((image["id"], annotation["category_id"]))
    public_test = {
        "images": test_images,
        "info": metadata["info"],
        "licenses": metadata["licenses"],
    }
    write_json(public / "test2019.json", public_test, indent=4, sort_keys=True)
    del metadata, train_pairs, train, test, test_images

    frame = pd.DataFrame(answers, columns=["id", "predicted"])
    frame.to_csv(private / "answers.csv", index=False)
    # One constant guess: MLE-bench draws it from a fresh random.Random(42) for every row.
    guess = random.Random(42).randint(0, 1009)
    frame.assign(predicted=guess).to_csv(public / "kaggle_sample_submission.csv", index=False)

    counts = split_tar(
        raw / "train_val2019.tar.gz",
        {"train": public / "train_val2019.tar.gz", "test": public / "test2019.tar.gz"},
        lambda name: routes.get(name.removeprefix("./")),
    )
    expected = {"train": 0, "test": 0}
    for key, _ in routes.values():
        expected[key] += 1
    if counts != expected:
        raise PreparationError(
            f"train_val2019.tar.gz holds {counts} of the {expected} images listed in "
            "train2019.json; the archive is incomplete: download it again"
        )
