"""Facts about mlepipe.preparers.tables: chunked preparation of large tables writes the same
bytes as preparing the whole table in memory."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from mlepipe.preparers import io as preparer_io
from mlepipe.preparers import tables
from mlepipe.preparers.errors import PreparationError

N = 600


def _raw(tmp_path, n=N):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "key": [f"k{i:06d}" for i in range(n)],
            "y": np.round(rng.gamma(2.0, 5.0, n), 2),
            "text": rng.choice(["plain", "with, comma", 'with "quote"', "two\nlines"], n),
            "count": pd.array(rng.integers(0, 7, n), dtype="Int64"),
        }
    )
    # Written as "3" everywhere but one empty cell in the last chunk, where pandas reads floats;
    # a single read gives floats everywhere ("3.0"), and so must the chunked one.
    frame.loc[n - 50, "count"] = pd.NA
    raw = tmp_path / "raw"
    raw.mkdir()
    frame.to_csv(raw / "train.csv", index=False)
    return raw


def _prepare(raw, out, **extra):
    public, private = out / "public", out / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    tables.holdout(raw, public, private, test_size=0.1, id_column="key", label_columns=["y"],
                   sample_values={"y": 1.5}, **extra)  # fmt: skip
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in out.rglob("*.csv")}


def test_chunked_holdout_writes_the_same_bytes_as_in_memory(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    whole = _prepare(raw, tmp_path / "whole")
    # Small blocks, so that some take no row from the chunk holding the empty cell.
    monkeypatch.setattr(preparer_io, "WRITE_BLOCK_ROWS", 3)
    chunked = _prepare(raw, tmp_path / "chunked", chunksize=N // 3)
    assert chunked == whole


def test_renumbered_ids_continue_from_train_into_test(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    monkeypatch.setattr(preparer_io, "WRITE_BLOCK_ROWS", 70)
    _prepare(raw, tmp_path / "out", renumber_ids=True)
    train = pd.read_csv(tmp_path / "out" / "public" / "train.csv")
    test = pd.read_csv(tmp_path / "out" / "public" / "test.csv")
    assert list(train["key"]) == list(range(N - N // 10))
    assert list(test["key"]) == list(range(N - N // 10, N))


def test_missing_label_column_is_reported(tmp_path):
    raw = _raw(tmp_path)
    with pytest.raises(PreparationError, match="missing column"):
        tables.holdout(raw, tmp_path, tmp_path, test_size=0.1, id_column="key",
                       label_columns=["nope"], sample_values={})  # fmt: skip
