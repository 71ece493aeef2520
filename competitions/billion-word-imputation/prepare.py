"""Holds out about 1% of the training sentences, each with one word removed, as the test set.

Streams `train_v2.txt` (about 30 million sentences, 4 GB) once. Each sentence draws a uniform
number from numpy's legacy generator (seed 0); when it is at most 0.01 and the sentence has
more than two words, the sentence becomes a test sentence and a second draw,
`randint(1, n_words - 1)`, picks the word to remove (never the first or the last). These are
exactly the draws of one scalar call per sentence; they are made in vectors for speed and
rewound (generator state saved and restored) wherever a test sentence interrupts the sequence.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from mlepipe.preparers.archives import zip_files
from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.tables import ZIP_TIMESTAMP

SHARE = 0.01
LINES_PER_READ = 65_536
DRAWS_PER_STEP = 512
HEADER = '"id","sentence"\n'


def _sentences(archive: Path) -> Iterator[str]:
    """Lines of the one text file inside `archive`, newlines normalised as text mode does."""
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise PreparationError(f"{archive}: expected one file inside, found {names}")
        with zf.open(names[0]) as member:
            yield from io.TextIOWrapper(member, encoding="utf-8")


def _blocks(lines: Iterator[str]) -> Iterator[list[str]]:
    while block := list(islice(lines, LINES_PER_READ)):
        yield block


def prepare(raw: Path, public: Path, private: Path) -> None:
    rng = np.random.RandomState(0)
    count = 0
    with (
        open(public / "train_v2.txt", "w", encoding="utf-8", newline="\n") as train,
        open(public / "test_v2.txt", "w", encoding="utf-8", newline="\n") as public_test,
        open(private / "test.csv", "w", encoding="utf-8", newline="\n") as answers,
    ):
        public_test.write(HEADER)
        answers.write(HEADER)
        for block in _blocks(_sentences(raw / "train_v2.txt.zip")):
            pos = 0
            while pos < len(block):
                step = min(DRAWS_PER_STEP, len(block) - pos)
                state = rng.get_state()
                draws = rng.uniform(size=step)
                chosen = next(
                    (
                        int(i)
                        for i in np.flatnonzero(draws <= SHARE)
                        if len(block[pos + i].strip().split()) > 2
                    ),
                    None,
                )
                if chosen is None:
                    train.writelines(block[pos : pos + step])
                    pos += step
                    continue
                # Rewind to just after the chosen sentence's draw; the word draw comes next.
                rng.set_state(state)
                rng.uniform(size=chosen + 1)
                train.writelines(block[pos : pos + chosen])
                sentence = block[pos + chosen].strip().replace('"', '""')
                words = sentence.split()
                cut = rng.randint(1, len(words) - 1)
                answers.write(f'{count},"{sentence}"\n')
                public_test.write(f'{count},"{" ".join(words[:cut] + words[cut + 1 :])}"\n')
                count += 1
                pos += chosen + 1

    shutil.copyfile(public / "test_v2.txt", private / "sample_submission.csv")
    for name in ("train_v2.txt", "test_v2.txt"):
        zip_files(public / f"{name}.zip", [(public / name, name)], ZIP_TIMESTAMP)
        (public / name).unlink()
