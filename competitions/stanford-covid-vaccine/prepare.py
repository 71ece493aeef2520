"""A hold-out of 10% of the training sequences, drawn only among those passing the
signal-to-noise filter (SN_filter > 0), as the competition's own test set was.

The answers explode each test sequence into one row per position (`<id>_<position>`): the five
measured values for the first `seq_scored` positions (`keep` True) and zeros, not scored, for
the rest (`keep` False). JSON files are written with pandas' `to_json(orient="records",
lines=True)` and CSVs with "%.10f", as MLE-bench writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import require, write_csv

TARGETS = ["reactivity", "deg_Mg_pH10", "deg_pH10", "deg_Mg_50C", "deg_50C"]
FLOATS = "%.10f"


def _first_record_keys(path: Path) -> list[str]:
    """The fields of a JSON-lines file, in the order of its first record."""
    with open(require(path), encoding="utf-8") as f:
        return list(json.loads(f.readline()))


def _answers(test: pd.DataFrame) -> pd.DataFrame:
    records = []
    for row in test.itertuples(index=False):
        scored, length = row.seq_scored, row.seq_length
        values = [getattr(row, name) for name in TARGETS]
        if any(len(v) != scored for v in values) or scored >= length:
            raise PreparationError(
                f"sequence {row.id}: expected {scored} measured positions out of {length}; "
                "train.json does not look like the competition's"
            )
        for j in range(length):
            measured = j < scored
            record = {"id_seqpos": f"{row.id}_{j}"}
            for name, value in zip(TARGETS, values, strict=True):
                record[name] = value[j] if measured else 0.0
            record["keep"] = measured
            records.append(record)
    return pd.DataFrame(records)


def prepare(raw: Path, public: Path, private: Path) -> None:
    train = pd.read_json(require(raw / "train.json"), lines=True)
    test_columns = _first_record_keys(raw / "test.json")

    n_test = int(len(train) * 0.1)
    chosen = train[train["SN_filter"] > 0].sample(n=n_test, random_state=0).index
    is_test = train.index.isin(chosen)
    new_train, new_test = train[~is_test].copy(), train[is_test].copy()

    answers = _answers(new_test)
    write_csv(answers, private / "test.csv", float_format=FLOATS)

    new_train["index"] = range(len(new_train))
    new_train.to_json(public / "train.json", orient="records", lines=True)
    public_test = new_test[test_columns].copy()
    public_test["index"] = range(len(public_test))
    public_test.to_json(public / "test.json", orient="records", lines=True)

    sample = answers[["id_seqpos", *TARGETS]].copy()
    sample[TARGETS] = 0.0
    write_csv(sample, public / "sample_submission.csv", float_format=FLOATS)
