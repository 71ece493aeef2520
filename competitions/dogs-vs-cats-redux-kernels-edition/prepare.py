"""Splits the labelled cat and dog photos into a new train and test set.

public/train/ gets the train photos renamed `cat.<n>.jpg` / `dog.<n>.jpg` (numbered per class in
split order), public/test/ the test photos renamed `<i>.jpg` (i from 1); both folders are also
packed into public/train.zip and public/test.zip (flat). The photos are streamed out of Kaggle's
train.zip byte for byte, never decoded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_files
from mlepipe.preparers.io import extract_member, zip_names


def prepare(raw: Path, public: Path, private: Path) -> None:
    # Sorted by name, as the files of an extracted train/ folder sort.
    photos = sorted(zip_names(raw / "train.zip", prefix="train/", suffix=".jpg"))
    train, test = train_test_split(photos, test_size=0.1, random_state=0)

    with zipfile.ZipFile(raw / "train.zip") as zf:
        stamps = {}
        counters = {"cat": 0, "dog": 0}
        train_names = []
        for member in train:
            kind = "cat" if "cat" in Path(member).name else "dog"
            name = f"{kind}.{counters[kind]}.jpg"
            counters[kind] += 1
            extract_member(zf, member, public / "train" / name)
            stamps[name] = zf.getinfo(member).date_time
            train_names.append(name)
        test_names = []
        for i, member in enumerate(test, start=1):
            name = f"{i}.jpg"
            extract_member(zf, member, public / "test" / name)
            stamps[name] = zf.getinfo(member).date_time
            test_names.append(name)

    for folder, names in (("train", train_names), ("test", test_names)):
        entries = [(public / folder / n, n) for n in names]
        zip_files(public / f"{folder}.zip", entries, date_times=stamps)

    ids = range(1, len(test) + 1)
    answers = pd.DataFrame({"id": ids, "label": [int("dog" in Path(m).name) for m in test]})
    answers.to_csv(private / "answers.csv", index=False)
    pd.DataFrame({"id": ids, "label": 0.5}).to_csv(public / "sample_submission.csv", index=False)
