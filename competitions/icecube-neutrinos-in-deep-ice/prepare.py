"""A 10% hold-out of whole training batches (of about 200,000 events each).

Batch ids, in their order of appearance in train_meta.parquet, are split by sklearn's
train_test_split(test_size=0.1, random_state=0). train_meta.parquet (about 130 million events)
is streamed a million rows at a time into public/train_meta.parquet, public/test_meta.parquet
(without the direction) and the CSV answers (event_id, azimuth, zenith), so memory holds one
chunk, never the table. Each batch's pulse file is copied byte for byte into public/train/ or
public/test/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, require
from mlepipe.preparers.splits import split_ids

CHUNK_ROWS = 1_000_000
DIRECTION = ["azimuth", "zenith"]


def _batch_ids_in_order(meta: pq.ParquetFile) -> list[int]:
    seen: dict[int, None] = {}
    for chunk in meta.iter_batches(batch_size=CHUNK_ROWS, columns=["batch_id"]):
        seen.update(dict.fromkeys(pd.unique(chunk.column(0).to_numpy()).tolist()))
    return list(seen)


def _append_csv(frame: pd.DataFrame, path: Path, first: bool) -> None:
    frame.to_csv(path, mode="w" if first else "a", header=first, index=False, lineterminator="\n")


def prepare(raw: Path, public: Path, private: Path) -> None:
    # pre_buffer would keep every row group read so far in memory, growing with the table
    meta = pq.ParquetFile(require(raw / "train_meta.parquet"), pre_buffer=False)
    schema = meta.schema_arrow.remove_metadata()
    missing = {"batch_id", "event_id", *DIRECTION} - set(schema.names)
    if missing:
        raise PreparationError(f"train_meta.parquet lacks column(s) {sorted(missing)}")
    train_batches, test_batches = split_ids(
        _batch_ids_in_order(meta), test_size=0.1, random_state=0
    )
    test_set = pa.array(test_batches.tolist(), type=schema.field("batch_id").type)
    unlabelled = pa.schema([f for f in schema if f.name not in DIRECTION])

    answers, sample = private / "test.csv", public / "sample_submission.csv"
    with (
        pq.ParquetWriter(public / "train_meta.parquet", schema) as train_out,
        pq.ParquetWriter(public / "test_meta.parquet", unlabelled) as test_out,
    ):
        first = True
        for chunk in meta.iter_batches(batch_size=CHUNK_ROWS):
            table = pa.Table.from_batches([chunk]).replace_schema_metadata(None)
            is_test = pc.is_in(table.column("batch_id"), value_set=test_set)
            train_out.write_table(table.filter(pc.invert(is_test)))
            test = table.filter(is_test)
            test_out.write_table(test.drop_columns(DIRECTION))
            labels = test.select(["event_id", *DIRECTION]).to_pandas()
            _append_csv(labels, answers, first)
            _append_csv(labels.assign(azimuth=1, zenith=1), sample, first)
            first = False
    if first:
        raise PreparationError("train_meta.parquet holds no rows; the download looks incomplete")

    copy_file(raw / "sensor_geometry.csv", public / "sensor_geometry.csv")
    sides = {int(b): "train" for b in train_batches} | {int(b): "test" for b in test_batches}
    (public / "train").mkdir()
    (public / "test").mkdir()
    for path in sorted(require(raw / "train").glob("*.parquet")):
        side = sides.get(int(path.stem.split("_")[-1]))  # train/batch_12.parquet -> 12
        if side:
            copy_file(path, public / side / path.name)
