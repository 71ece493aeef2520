"""Preparation for image competitions: split a labelled table and copy each row's file.

Images (and DICOM, TIFF, TFRecord files) are copied byte for byte, never decoded, so preparing a
100 GB dataset needs disk space but little memory. The building blocks here are shared by the
image competitions' own `prepare.py` files; `split_labelled_images` is also usable declaratively:

    preparation:
      kind: images.split_labelled_images
      labels_file: train.csv
      id_column: id_code
      target_columns: [diagnosis]
      image_pattern: "train_images/{}.png"
      ...
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, read_csv, require, require_columns

# --------------------------------------------------------------------------------------------
# Splitting a labelled table


def split_labelled_images(
    raw: Path,
    public: Path,
    private: Path,
    *,
    labels_file: str,
    id_column: str,
    target_columns: list[str],
    image_pattern: str,
    test_size: float = 0.1,
    random_state: int = 0,
    stratify: bool = False,
    train_image_dir: str = "train",
    test_image_dir: str = "test",
    public_train_file: str | None = None,
    public_test_file: str | None = "test.csv",
    answers_file: str = "test.csv",
    sample_file: str = "sample_submission.csv",
    sample_fill: dict[str, object] | None = None,
) -> None:
    """Splits a labelled table into new train and test sets and copies their files.

    - `labels_file` (in raw/) is split with sklearn's train_test_split(test_size, random_state,
      stratified on the first target when `stratify`), rows keeping the shuffled order.
    - public/`public_train_file` (default: the labels file's name) gets the train rows;
      public/`public_test_file` the test rows without the targets (None: no such file);
      private/`answers_file` the test rows with every column.
    - public/`sample_file` holds the id and target columns of the test rows, each target set to
      its `sample_fill` value.
    - The file of row `id` is raw/`image_pattern`.format(id) (the pattern may hold a folder,
      e.g. "train_images/{}.png"); it is copied, keeping its name, into
      public/`train_image_dir`/ or public/`test_image_dir`/.
    """
    table = read_csv(raw / labels_file)
    require_columns(table, [id_column, *target_columns], labels_file)
    strat = table[target_columns[0]] if stratify else None
    train, test = train_test_split(
        table, test_size=test_size, random_state=random_state, stratify=strat
    )

    train.to_csv(public / (public_train_file or Path(labels_file).name), index=False)
    if public_test_file:
        test.drop(columns=target_columns).to_csv(public / public_test_file, index=False)
    test.to_csv(private / answers_file, index=False)
    sample = test[[id_column, *target_columns]].copy()
    for column, value in (sample_fill or {}).items():
        sample[column] = value
    sample.to_csv(public / sample_file, index=False)

    for part, frame in ((train_image_dir, train), (test_image_dir, test)):
        (public / part).mkdir(parents=True, exist_ok=True)
        for ident in frame[id_column]:
            src = raw / image_pattern.format(ident)
            copy_file(src, public / part / src.name)


def one_hot(frame: pd.DataFrame, id_column: str, target: str, classes: list[str]) -> pd.DataFrame:
    """The id column plus one 0/1 column per class (in `classes` order), rows in frame order."""
    values = frame[target].to_numpy()
    unknown = set(values) - set(classes)
    if unknown:
        raise PreparationError(f"unexpected {target} value(s) {sorted(unknown)[:5]} in the labels")
    columns = {id_column: frame[id_column].to_numpy()}
    columns.update({cls: (values == cls).astype("int64") for cls in classes})
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------------
# TFRecord files of tf.train.Example records (read without TensorFlow)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    """(field number, wire type, value) of a protobuf message; length-delimited values as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise PreparationError(f"not a tf.train.Example record (protobuf wire type {wire})")
        yield number, wire, value


def example_bytes_feature(record: bytes, name: str) -> bytes | None:
    """The first value of the bytes feature `name` of a serialized tf.train.Example."""
    # Example{features=1} > Features{feature=1: map entry{key=1, value=2}} > Feature{bytes_list=1}
    # > BytesList{value=1}
    for number, _, features in _fields(record):
        if number != 1:
            continue
        for entry_number, _, entry in _fields(features):
            if entry_number != 1:
                continue
            parts = {n: v for n, _, v in _fields(entry)}
            if parts.get(1) != name.encode():
                continue
            for kind, _, values in _fields(parts.get(2, b"")):
                if kind == 1:
                    for value_number, _, value in _fields(values):
                        if value_number == 1:
                            return bytes(value)
    return None


def tfrecords(path: Path) -> Iterator[bytes]:
    """The records of a TFRecord file, one at a time (checksums are not verified)."""
    with open(require(path), "rb") as f:
        while header := f.read(12):
            if len(header) < 12:
                raise PreparationError(f"{path} ends in the middle of a record; it looks truncated")
            (length,) = struct.unpack("<Q", header[:8])
            data = f.read(length)
            if len(data) < length or len(f.read(4)) < 4:
                raise PreparationError(f"{path} ends in the middle of a record; it looks truncated")
            yield data


def tfrecord_ids(path: Path, feature: str = "image_name") -> list[str]:
    """The `feature` string of every tf.train.Example in a TFRecord file, in file order."""
    ids = []
    for i, record in enumerate(tfrecords(path)):
        value = example_bytes_feature(record, feature)
        if value is None:
            raise PreparationError(f"record {i} of {path} has no '{feature}' feature")
        ids.append(value.decode("utf-8"))
    return ids
