"""A 10% hold-out of the labelled one-second clips in train.7z as the new test set.

Every `.wav` under train/audio/<label>/ (background-noise recordings included) is listed, sorted
by "<label>_<file name>", and split by sklearn's train_test_split(test_size=0.1,
random_state=0). Training clips keep their folder and name; test clips are renamed
`clip_<8-digit index>.wav` because names repeat across label folders. The answers keep each test
clip's folder name as its label, exactly as MLE-bench does (see known_issues).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, extract_7z, write_csv

SAMPLE_LABEL = "silence"


def prepare(raw: Path, public: Path, private: Path) -> None:
    extract_7z(raw / "train.7z", raw)
    audio = raw / "train" / "audio"
    clips = sorted(
        ((path.parent.name, path) for path in audio.rglob("*.wav")),
        key=lambda clip: f"{clip[0]}_{clip[1].name}",
    )
    if len(clips) < 2:
        raise PreparationError(f"found {len(clips)} .wav file(s) under {audio}; expected many")
    train, test = train_test_split(clips, test_size=0.1, random_state=0)

    for label, path in train:
        copy_file(path, public / "train" / "audio" / label / path.name)
    (public / "test" / "audio").mkdir(parents=True)
    names = [f"clip_{index:08d}.wav" for index in range(len(test))]
    for name, (_, path) in zip(names, test, strict=True):
        copy_file(path, public / "test" / "audio" / name)

    answers = pd.DataFrame({"fname": names, "label": [label for label, _ in test]})
    write_csv(answers, private / "test.csv")
    write_csv(answers.assign(label=SAMPLE_LABEL), public / "sample_submission.csv")
