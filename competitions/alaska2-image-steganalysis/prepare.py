"""Splits the cover images (and their three altered versions) into a new train and test set.

5,000 covers (random_state 42) are held out. The train covers and their JMiPOD, JUNIWARD and UERD
versions are renumbered `<i>.jpg` (5 digits, from 00001) in Cover/, JMiPOD/, JUNIWARD/ and UERD/.
The held-out covers are shuffled (Python's random, seed 0); for each, a coin flip keeps the
cover (label 0) or picks one of the three algorithms' versions (label 1), saved as
Test/<i>.jpg (4 digits, from 0001). Every image is copied byte for byte.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file

TEST_SIZE = 5000
ALGORITHMS = ["JMiPOD", "JUNIWARD", "UERD"]


def prepare(raw: Path, public: Path, private: Path) -> None:
    covers = sorted((raw / "Cover").glob("*.jpg"))
    if len(covers) <= TEST_SIZE:
        raise PreparationError(
            f"{raw / 'Cover'} holds {len(covers)} images; more than {TEST_SIZE} are needed"
        )
    train, test = train_test_split(covers, test_size=TEST_SIZE, random_state=42)
    for folder in ["Cover", "Test", *ALGORITHMS]:
        (public / folder).mkdir()

    for i, cover in enumerate(train, start=1):
        copy_file(cover, public / "Cover" / f"{i:05d}.jpg")
        for algorithm in ALGORITHMS:
            copy_file(raw / algorithm / cover.name, public / algorithm / f"{i:05d}.jpg")

    # The same draws as seeding Python's global generator with 0, without touching it.
    draws = random.Random(0)
    draws.shuffle(test)
    rows = []
    for i, cover in enumerate(test, start=1):
        name = f"{i:04d}.jpg"
        if draws.choice([True, False]):
            copy_file(cover, public / "Test" / name)
            rows.append((name, 0))
        else:
            copy_file(raw / draws.choice(ALGORITHMS) / cover.name, public / "Test" / name)
            rows.append((name, 1))

    answers = pd.DataFrame(rows, columns=["Id", "Label"])
    answers.to_csv(private / "test.csv", index=False)
    answers.assign(Label=0).to_csv(public / "sample_submission.csv", index=False)
