"""Uses the competition's own split: Kaggle published the test labels after it closed.

Each file ships zipped on its own (`train.csv.zip`, ...); pandas reads the one CSV inside.
The sample submission is Kaggle's, with every probability set to 0.5.
"""

from __future__ import annotations

from pathlib import Path

from mlepipe.preparers.io import read_csv, write_csv

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def prepare(raw: Path, public: Path, private: Path) -> None:
    write_csv(read_csv(raw / "train.csv.zip"), public / "train.csv")
    write_csv(read_csv(raw / "test.csv.zip"), public / "test.csv")
    write_csv(read_csv(raw / "test_labels.csv.zip"), private / "test.csv")
    sample = read_csv(raw / "sample_submission.csv.zip")
    sample[CLASSES] = 0.5
    write_csv(sample, public / "sample_submission.csv")
