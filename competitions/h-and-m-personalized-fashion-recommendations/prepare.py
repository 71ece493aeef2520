"""Holds out the purchases of the last week (the latest day and the 7 days before it) as the test
set; the task is to predict them from the history before.

transactions_train.csv has about 32 million rows (3.5 GB), so it is read twice in chunks: once for
its latest date, once to write the earlier rows back and keep the last week's. The answers list,
per customer who bought something in that week, the articles bought in purchase order. Every
customer is asked for (sample_submission.csv, copied unchanged) so that the answers do not reveal
who bought. articles.csv, customers.csv and the product images are copied unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, copy_tree

TRANSACTIONS = "transactions_train.csv"
COLUMNS = ["t_dat", "customer_id", "article_id", "price", "sales_channel_id"]
# The types pandas infers for the whole file; fixing them keeps every chunk's text identical.
DTYPES = {
    "t_dat": "str", "customer_id": "str", "article_id": "int64", "price": "float64",
    "sales_channel_id": "int64",
}  # fmt: skip
CHUNK_ROWS = 2_000_000
TEST_DAYS = 7


def _chunks(path: Path, **kwargs):
    if not path.is_file():
        raise PreparationError(f"{path} is missing; the download looks incomplete")
    try:
        yield from pd.read_csv(path, chunksize=CHUNK_ROWS, **kwargs)
    except ValueError as exc:
        raise PreparationError(
            f"{path.name} does not look like the original table: {exc}"
        ) from None


def prepare(raw: Path, public: Path, private: Path) -> None:
    source = raw / TRANSACTIONS
    latest = max(pd.to_datetime(c["t_dat"]).max() for c in _chunks(source, usecols=["t_dat"]))
    cutoff = latest - pd.Timedelta(days=TEST_DAYS)

    last_week = []
    with open(public / TRANSACTIONS, "w", newline="", encoding="utf-8") as out:
        for k, chunk in enumerate(_chunks(source, usecols=COLUMNS, dtype=DTYPES)):
            chunk = chunk[COLUMNS]
            held_out = (pd.to_datetime(chunk["t_dat"]) >= cutoff).to_numpy()
            chunk[~held_out].to_csv(out, index=False, header=k == 0)
            last_week.append(chunk.loc[held_out, ["customer_id", "article_id"]])
    held = pd.concat(last_week, ignore_index=True)
    held["article_id"] = held["article_id"].astype(str)
    answers = held.groupby("customer_id")["article_id"].agg(" ".join).reset_index()
    answers.columns = ["customer_id", "prediction"]
    answers.to_csv(private / "answers.csv", index=False)

    for name in ("sample_submission.csv", "articles.csv", "customers.csv"):
        copy_file(raw / name, public / name)
    copy_tree(raw / "images", public / "images")
