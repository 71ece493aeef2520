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

import json
import os
import shutil
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.prepare import PreparationError

# Files packed into .7z archives get this mtime (2020-01-01 00:00 UTC, the instant of
# archives.FIXED_DATE_TIME), so that the same raw data always gives the same archive bytes.
FIXED_EPOCH = 1577836800


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """A raw CSV, or an error that says the download is incomplete.

    pandas 3 parses floats exactly, as MLE-bench asked of older pandas with
    float_precision="round_trip", so the values written back are the ones read.
    """
    path = Path(path)
    if not path.is_file():
        raise PreparationError(
            f"{path.name} is missing from {path.parent}; the download looks incomplete: "
            "prepare again with --force to extract it anew"
        )
    return pd.read_csv(path, **kwargs)


def _missing(src: Path) -> PreparationError:
    return PreparationError(
        f"{src} is listed in the labels but missing from the raw data; the download looks "
        "incomplete: prepare again with --force to extract it anew"
    )


def copy_file(src: Path, dst: Path) -> None:
    """Copies one file's bytes (parent folders are created)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(src, dst)
    except FileNotFoundError:
        if not Path(src).is_file():
            raise _missing(Path(src)) from None
        raise


def copy_images(src_dir: Path, dst_dir: Path, names: Iterable[str]) -> int:
    """Copies `src_dir/<name>` to `dst_dir/<name>` for each name; returns how many."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in names:
        copy_file(src_dir / name, dst_dir / name)
        count += 1
    return count


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
    missing = [c for c in [id_column, *target_columns] if c not in table.columns]
    if missing:
        raise PreparationError(
            f"{labels_file} has no column(s) {missing}; the download looks wrong"
        )
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
# Zip archives


def zip_names(archive: Path, prefix: str = "", suffix: str = "") -> list[str]:
    """Member names of `archive` (files only) that start with `prefix` and end with `suffix`."""
    with zipfile.ZipFile(archive) as zf:
        return [
            n
            for n in zf.namelist()
            if n.startswith(prefix) and n.endswith(suffix) and not n.endswith("/")
        ]


def extract_member(zf: zipfile.ZipFile, member: str, dst: Path) -> None:
    """Streams one member's bytes into `dst` (never the whole archive in memory)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = zf.open(member)
    except KeyError:
        raise PreparationError(
            f"{zf.filename} has no member {member!r}; the download looks incomplete"
        ) from None
    with source, open(dst, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


# --------------------------------------------------------------------------------------------
# 7-Zip archives (some downloads ship them); py7zr is needed only by those competitions


def _py7zr():
    try:
        import py7zr
    except ImportError:
        raise PreparationError(
            "this competition's data is packed with 7-Zip; install the py7zr package "
            "(pip install py7zr) and prepare again"
        ) from None
    return py7zr


def extract_7z(archive: Path, dest: Path) -> None:
    """Extracts a .7z archive into `dest`."""
    if not archive.is_file():
        raise PreparationError(f"{archive} is missing; the download looks incomplete")
    py7zr = _py7zr()
    with py7zr.SevenZipFile(archive, mode="r") as z:
        z.extractall(path=dest)


def pack_7z(dest: Path, path: Path, arcname: str) -> None:
    """Writes a file, or a folder with everything below it, into a new .7z archive as `arcname`.

    Timestamps are set to FIXED_EPOCH first, so that the same files give the same archive.
    """
    py7zr = _py7zr()
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (FIXED_EPOCH, FIXED_EPOCH))
    with py7zr.SevenZipFile(dest, mode="w") as z:
        z.writeall(path, arcname=arcname)


def first_json_record(path: Path, chunk: int = 1 << 20) -> dict:
    """The first object of a JSON file holding a list of objects, without reading the rest."""
    decoder = json.JSONDecoder()
    text = ""
    with open(path, encoding="utf-8") as f:
        while block := f.read(chunk):
            text += block
            start = text.find("{")
            if start < 0:
                continue
            try:
                record, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                continue  # the first object goes on in the next block
            return record
    raise PreparationError(f"{path} does not start with a JSON object; the download looks wrong")


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
    with open(path, "rb") as f:
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
