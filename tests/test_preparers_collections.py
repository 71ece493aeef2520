"""Preparation helpers for large image collections: BSON streams and tar archives member by
member."""

from __future__ import annotations

import io
import struct
import tarfile

import pytest

from mlepipe.preparers.collections import bson_ints, bson_rewrite, encode_bson, iter_bson, split_tar
from mlepipe.preparers.errors import PreparationError


def test_bson_documents_stream_back_with_their_ids_and_categories(tmp_path):
    docs = [
        {"_id": i, "imgs": [{"picture": b"\xff\xd8" * i}], "category_id": 10**9 + i}
        for i in range(5)
    ]
    path = tmp_path / "train.bson"
    path.write_bytes(b"".join(encode_bson(d) for d in docs))
    read = [bson_ints(doc, ("_id", "category_id")) for doc in iter_bson(path)]
    assert read == [(d["_id"], d["category_id"]) for d in docs]


def test_bson_rewrite_drops_a_field_and_keeps_other_bytes():
    doc = encode_bson({"_id": 7, "imgs": [{"picture": b"abc"}], "category_id": 5})
    without = bson_rewrite(doc, drop=frozenset({"category_id"}))
    assert without == encode_bson({"_id": 7, "imgs": [{"picture": b"abc"}]})
    assert bson_rewrite(doc) is doc  # nothing to change: the very same bytes


def test_bson_rewrite_moves_id_first_as_drivers_encode_it():
    body = b"\x10a\x00" + struct.pack("<i", 1) + b"\x10_id\x00" + struct.pack("<i", 2)
    doc = struct.pack("<i", len(body) + 5) + body + b"\x00"
    assert bson_rewrite(doc) == encode_bson({"_id": 2, "a": 1})


def test_a_truncated_bson_file_is_reported_with_its_offset(tmp_path):
    path = tmp_path / "train.bson"
    path.write_bytes(encode_bson({"_id": 1}) + encode_bson({"_id": 2})[:-3])
    with pytest.raises(PreparationError, match="byte 14"):
        list(iter_bson(path))


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1234567890
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_split_tar_routes_members_and_keeps_their_attributes(tmp_path):
    src = tmp_path / "all.tar.gz"
    src.write_bytes(_tar_gz({"d/a/1.jpg": b"one", "d/b/2.jpg": b"two", "d/c/3.jpg": b"three"}))
    routes = {"d/a/1.jpg": ("train", "a/1.jpg"), "d/c/3.jpg": ("test", "3.jpg")}
    outputs = {"train": tmp_path / "train.tar", "test": tmp_path / "test.tar"}
    assert split_tar(src, outputs, routes.get) == {"train": 1, "test": 1}
    with tarfile.open(outputs["test"]) as tar:
        (member,) = tar.getmembers()
        assert (member.name, member.mtime, tar.extractfile(member).read()) == (
            "3.jpg",
            1234567890,
            b"three",
        )


def test_split_tar_refuses_a_file_that_is_not_a_tar(tmp_path):
    src = tmp_path / "x.tar.gz"
    src.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(PreparationError, match="not a readable tar"):
        split_tar(src, {"a": tmp_path / "a.tar"}, lambda name: ("a", name))
