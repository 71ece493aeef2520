"""Holds out 10% of Kaggle's tagged questions as the test set.

Train.csv (inside Train.zip) has about 6 million questions (about 7 GB): it is read in chunks
from the archive, without extracting it, and the new training table is written in blocks, so
that memory holds one compact copy of the table. Id and Tags are read as text, as MLE-bench
reads them. The sample submission is the public test table plus a constant Tags column.
"""

from __future__ import annotations

from pathlib import Path

from mlepipe.preparers.io import write_csv, write_rows
from mlepipe.preparers.splits import split_indices
from mlepipe.preparers.tables import ChunkedTable

# Rows average about 1 KB of text: chunks and blocks of this size keep memory use small.
CHUNK_ROWS = 200_000
BLOCK_ROWS = 100_000
SAMPLE_TAGS = "javascript c# python php java"


def prepare(raw: Path, public: Path, private: Path) -> None:
    questions = ChunkedTable.read_csv(
        raw / "Train.zip", chunksize=CHUNK_ROWS, dtype={"Id": str, "Tags": str}
    )
    train_rows, test_rows = split_indices(len(questions), test_size=0.1, random_state=0)
    test = questions.take(test_rows)
    write_rows(questions, train_rows, public / "train.csv", block=BLOCK_ROWS)
    del questions

    unlabelled = test.drop(columns="Tags")
    write_csv(unlabelled, public / "test.csv")
    write_csv(unlabelled.assign(Tags=SAMPLE_TAGS), public / "sample_submission.csv")
    write_csv(test, private / "test.csv")
