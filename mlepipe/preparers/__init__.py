"""Preparers: the ways a competition's raw data become its public/private files.

- `io`: reading, writing, copying and extracting files, once for every family; `errors`: the
  PreparationError they all raise; `splits`: the train/test splits.
- One module per data family holds only what is its own: `tables` (chunked tables, hold-outs),
  `images` (TFRecord, one-hot labels), `medical` (RLE masks, array and PNG headers), `signals`,
  `collections` (COCO metadata, BSON, tar streams), `archives` (deterministic zip writing).

A competition names a declarative preparer with `preparation: {kind: <name>, ...params}` instead
of code, where <name> is a function of this package (`split_table`) or of one of its modules
(`images.<func>`). Each takes the raw/, public/ and private/ folders plus its parameters.
Competition folders' own `prepare.py` files import the building blocks too.

These modules may import numpy, pandas, scikit-learn, py7zr, pillow and `mlepipe.registry`
only: never the grading, harness or agent code.
"""

from __future__ import annotations


def __getattr__(name: str):
    # `split_table` is loaded on first use: importing the package (as `errors` does, for the
    # CLI's every command) must not import pandas and scikit-learn.
    if name == "split_table":
        from mlepipe.preparers.splits import split_table

        return split_table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
