"""mlepipe.preparers.archives: zips whose bytes depend only on the members' content and the dates
the caller chose."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from mlepipe.preparers.archives import FIXED_DATE_TIME, member_info, zip_files, zip_members
from mlepipe.preparers.errors import PreparationError


def test_zip_files_ignore_the_files_own_mtimes(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("hello\n")
    zip_files(tmp_path / "1.zip", [(src, "a.txt")], deflate=False)
    src.touch()
    zip_files(tmp_path / "2.zip", [(src, "a.txt")], deflate=False)
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "1.zip") as zf:
        (info,) = zf.infolist()
        assert info.date_time == FIXED_DATE_TIME and info.compress_type == zipfile.ZIP_STORED
        assert info.external_attr == 0o644 << 16


def test_zip_files_take_per_name_dates_when_given(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).write_bytes(name.encode())
    stamp = (2013, 9, 20, 10, 0, 0)
    entries = [(tmp_path / n, n) for n in ("a", "b")]
    assert zip_files(tmp_path / "out.zip", entries, date_times={"b": stamp}) == 2
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert [i.date_time for i in zf.infolist()] == [FIXED_DATE_TIME, stamp]
        assert zf.read("b") == b"b"


def test_zip_members_keep_their_dates_and_report_missing_members(tmp_path):
    src = tmp_path / "in.zip"
    stamp = (2019, 5, 1, 12, 30, 0)
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr(member_info("train/x.jpg", stamp), b"x" * 1000)
        zf.writestr("train/y.jpg", b"y")
    with zipfile.ZipFile(src) as zf:
        assert zip_members(zf, tmp_path / "out.zip", [("train/x.jpg", "x.jpg")]) == 1
        with pytest.raises(PreparationError, match="no member 'z.jpg'"):
            zip_members(
                zf,
                tmp_path / "bad.zip",
                [("z.jpg", "z.jpg")],
                missing=lambda m: PreparationError(f"in.zip has no member {m!r}"),
            )
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.namelist() == ["x.jpg"] and zf.read("x.jpg") == b"x" * 1000
        assert zf.getinfo("x.jpg").date_time == stamp


def test_zip_members_under_a_folder_give_the_make_archive_layout(tmp_path):
    source = tmp_path / "source.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("train2/x_TRAIN5_1.aif", b"one")
        zf.writestr("train2/y_TRAIN9_0.aif", b"two")
    flat = tmp_path / "test2"
    flat.mkdir()
    for name in ("y_Test0.aif", "x_Test1.aif"):
        (flat / name).write_bytes(b"")
    reference = shutil.make_archive(str(tmp_path / "reference"), "zip", tmp_path, "test2")
    pairs = [("train2/y_TRAIN9_0.aif", "y_Test0.aif"), ("train2/x_TRAIN5_1.aif", "x_Test1.aif")]
    with zipfile.ZipFile(source) as zf:
        written = zip_members(
            zf, tmp_path / "test2.zip", pairs, date_time=FIXED_DATE_TIME, folder="test2"
        )
        assert written == 2
        with pytest.raises(ValueError, match="fixed date_time"):
            zip_members(zf, tmp_path / "undated.zip", pairs, folder="test2")
    with zipfile.ZipFile(tmp_path / "test2.zip") as zf:
        assert zf.namelist() == ["test2/", "test2/y_Test0.aif", "test2/x_Test1.aif"]
        assert zf.read("test2/x_Test1.aif") == b"one"
        with zipfile.ZipFile(reference) as ref:
            assert sorted(ref.namelist()) == sorted(zf.namelist())
