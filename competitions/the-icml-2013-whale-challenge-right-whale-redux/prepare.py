"""A new split by recording day: the first two of the four training days for training, the last
two as the test set (the competition's own test clips have no public labels).

Training clips are named `YYYYMMDD_HHMMSS_<offset>_TRAIN<i>_<label>.aif`. Within each side, clips
are renumbered in name (so time) order: training clips become `..._TRAIN<new i>_<label>.aif`,
test clips `..._Test<new i>.aif` (the label dropped). Both sides are zipped as public/train2.zip
and public/test2.zip, streamed from Kaggle's train2.zip without extracting it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd

from mlepipe.preparers.archives import FIXED_DATE_TIME, zip_members
from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import require, write_csv

N_DAYS = 4


def prepare(raw: Path, public: Path, private: Path) -> None:
    with zipfile.ZipFile(require(raw / "train2.zip")) as source:
        clips = {}  # clip name -> member of train2.zip
        for member in source.namelist():
            name = PurePosixPath(member).name
            if name.endswith(".aif"):
                clips[name] = member
        days = sorted({name.split("_")[0] for name in clips})
        if len(days) != N_DAYS:
            raise PreparationError(
                f"train2.zip holds clips of {len(days)} day(s), expected {N_DAYS}; "
                "the download looks wrong"
            )
        train = sorted(n for n in clips if n.split("_")[0] in days[:2])
        test = sorted(n for n in clips if n.split("_")[0] in days[2:])

        renamed_train = [re.sub(r"TRAIN\d+", f"TRAIN{i}", name) for i, name in enumerate(train)]
        renamed_test = [f"{name.split('TRAIN')[0]}Test{i}.aif" for i, name in enumerate(test)]
        sides = (("train2", train, renamed_train), ("test2", test, renamed_test))
        for folder, names, renamed in sides:
            members = zip([clips[n] for n in names], renamed, strict=True)
            dest = public / f"{folder}.zip"
            zip_members(source, dest, members, date_time=FIXED_DATE_TIME, folder=folder)

    # the label is the last part of the original name: ..._1.aif holds a right whale call
    answers = pd.DataFrame(
        {
            "clip": renamed_test,
            "probability": [1 if name.removesuffix(".aif").endswith("_1") else 0 for name in test],
        }
    )
    write_csv(answers, private / "test.csv")
    write_csv(answers.assign(probability=0), public / "sampleSubmission.csv")
