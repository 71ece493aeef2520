"""Holds out as many training records as the validation set has (random_state 0) as the test
set; the validation set stays public as it is.

Each record is a folder of .npy arrays: nine infrared bands (`band_08` ... `band_16`, H x W x T)
and, for training, the individual and aggregated human masks. Test records get their bands only;
their aggregated mask becomes the run-length encoded answer, with the image size read from the
band file's header. Arrays are copied byte for byte; only the test masks are read.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, copy_tree
from mlepipe.preparers.medical import npy_shape, rle_encode

BANDS = [f"band_{b:02d}.npy" for b in range(8, 17)]
MASKS = ["human_individual_masks.npy", "human_pixel_masks.npy"]


def _metadata(path: Path) -> list:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise PreparationError(f"{path} is missing; the download looks incomplete") from None


def _answer(record: Path) -> dict:
    mask_path = record / "human_pixel_masks.npy"
    if not mask_path.is_file():
        raise PreparationError(f"{mask_path} is missing; the download looks incomplete")
    runs = rle_encode(np.load(mask_path))
    height, width, _ = npy_shape(record / "band_08.npy")
    return {
        "record_id": record.name,
        "encoded_pixels": " ".join(map(str, runs)) if runs else "-",
        "height": height,
        "width": width,
    }


def prepare(raw: Path, public: Path, private: Path) -> None:
    train_meta = _metadata(raw / "train_metadata.json")
    validation_meta = _metadata(raw / "validation_metadata.json")
    train, test = train_test_split(train_meta, test_size=len(validation_meta), random_state=0)

    answers = pd.DataFrame([_answer(raw / "train" / str(r["record_id"])) for r in test])

    for part, records, files in (("train", train, BANDS + MASKS), ("test", test, BANDS)):
        for r in records:
            record = str(r["record_id"])
            for name in files:
                copy_file(raw / "train" / record / name, public / part / record / name)

    copy_tree(raw / "validation", public / "validation")
    copy_file(raw / "validation_metadata.json", public / "validation_metadata.json")
    (public / "train_metadata.json").write_text(json.dumps(train), encoding="utf-8")

    answers.to_csv(private / "answers.csv", index=False)
    draw = random.Random(0)
    placeholders = [draw.choice(["1 3 10 5", "-"]) for _ in range(len(answers))]
    answers.assign(encoded_pixels=placeholders).to_csv(
        public / "sample_submission.csv", index=False
    )
