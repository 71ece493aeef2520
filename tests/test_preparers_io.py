"""Facts about mlepipe.preparers.io: one behaviour for every family (a missing raw input is a
PreparationError naming it), and block-wise writing that gives the bytes of one write."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlepipe.preparers import io
from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.tables import ChunkedTable

# --------------------------------------------------------------------------------------------
# Missing inputs


@pytest.mark.parametrize(
    "use",
    [
        lambda raw, out: io.read_csv(raw / "train.csv"),
        lambda raw, out: io.read_json(raw / "train.csv"),
        lambda raw, out: io.first_json_record(raw / "train.csv"),
        lambda raw, out: io.copy_file(raw / "train.csv", out / "train.csv"),
        lambda raw, out: io.copy_files(raw, out, ["train.csv"]),
        lambda raw, out: io.copy_tree(raw / "train.csv", out / "train"),
        lambda raw, out: io.extract_zip(raw / "train.csv", out),
        lambda raw, out: io.extract_7z(raw / "train.csv", out),
        lambda raw, out: io.zip_names(raw / "train.csv"),
    ],
    ids=[
        "read_csv", "read_json", "first_json_record", "copy_file", "copy_files", "copy_tree",
        "extract_zip", "extract_7z", "zip_names",
    ],
)  # fmt: skip
def test_a_missing_raw_input_is_a_preparation_error_naming_it(tmp_path, use):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    with pytest.raises(PreparationError, match=r"train\.csv is missing from .*raw; .*prepare"):
        use(raw, out)


def test_missing_columns_are_named_with_the_columns_found():
    frame = pd.DataFrame({"id": [1], "y": [2]})
    io.require_columns(frame, ["id", "y"], "train.csv")
    with pytest.raises(PreparationError, match=r"train\.csv: missing column\(s\) \['z'\]"):
        io.require_columns(frame, ["id", "z"], "train.csv")


@pytest.mark.skipif(importlib.util.find_spec("py7zr") is not None, reason="py7zr is installed")
def test_7z_without_py7zr_says_what_to_install(tmp_path):
    (tmp_path / "train.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    with pytest.raises(PreparationError, match="install the py7zr package"):
        io.extract_7z(tmp_path / "train.7z", tmp_path)


def test_7z_archives_pack_and_extract_to_the_same_files(tmp_path):
    pytest.importorskip("py7zr")
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text('[{"id": 1}, {"id": 2}]')
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    io.pack_7z(tmp_path / "one.7z", folder, "data")
    io.pack_7z(tmp_path / "two.7z", folder, "data")
    assert (tmp_path / "one.7z").read_bytes() == (tmp_path / "two.7z").read_bytes()
    io.extract_7z(tmp_path / "one.7z", tmp_path / "out")
    assert (tmp_path / "out" / "data" / "sub" / "b.bin").read_bytes() == bytes(range(256))
    assert io.first_json_record(tmp_path / "out" / "data" / "a.json", chunk=3) == {"id": 1}


def test_zip_members_cannot_escape(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(PreparationError, match="escapes"):
        io.extract_zip(evil, tmp_path / "raw")
    assert not (tmp_path / "outside.txt").exists()


def test_copy_files_renames_into_new_folders(tmp_path):
    (tmp_path / "src" / "a").mkdir(parents=True)
    (tmp_path / "src" / "a" / "x.jpg").write_bytes(b"x")
    (tmp_path / "src" / "y.jpg").write_bytes(b"y")
    count = io.copy_files(
        tmp_path / "src", tmp_path / "dst", ["a/x.jpg", "y.jpg"], dst_names=["0/0.jpg", "1.jpg"]
    )
    assert count == 2
    assert (tmp_path / "dst" / "0" / "0.jpg").read_bytes() == b"x"
    assert (tmp_path / "dst" / "1.jpg").read_bytes() == b"y"
    assert io.copy_files(tmp_path / "src", tmp_path / "empty", []) == 0
    assert (tmp_path / "empty").is_dir()


# --------------------------------------------------------------------------------------------
# Writing a selection of rows a block at a time


def _frame(n=300):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"x": rng.random(n), "n": rng.integers(0, 5, n), "s": [f"m,{i}" for i in range(n)]}
    )
    frame.loc[7, "x"] = np.nan
    return frame


def test_write_rows_gives_the_bytes_of_one_write(tmp_path):
    frame = _frame()
    rows = np.random.default_rng(2).permutation(len(frame))[:250]
    io.write_rows(frame, rows, tmp_path / "blocks.csv", columns=["s", "x"], block=16)
    io.write_csv(frame.iloc[rows][["s", "x"]], tmp_path / "whole.csv")
    assert (tmp_path / "blocks.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_write_rows_takes_a_boolean_mask_in_table_order(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.0, np.nan, 4.25], "b": ["x", "y,z", "w", "v"]})
    keep = [True, False, True, True]
    io.write_rows(frame, keep, tmp_path / "out.csv", block=1)
    assert (tmp_path / "out.csv").read_text() == frame[keep].to_csv(index=False)


def test_write_rows_of_no_rows_writes_the_header(tmp_path):
    io.write_rows(_frame(), np.zeros(300, dtype=bool), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "x,n,s\n"


def test_write_rows_of_a_chunked_table_renumbers_like_one_frame(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "in.csv", index=False)
    chunked = ChunkedTable.read_csv(tmp_path / "in.csv", chunksize=40)
    rows = np.random.default_rng(3).permutation(len(frame))
    io.write_rows(chunked, rows, tmp_path / "chunked.csv", renumber="n", block=7)
    whole = io.read_csv(tmp_path / "in.csv").iloc[rows].assign(n=np.arange(len(rows)))
    io.write_csv(whole, tmp_path / "whole.csv")
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


# --------------------------------------------------------------------------------------------
# The package


def test_importing_the_errors_loads_neither_pandas_nor_scikit_learn():
    # The CLI imports the errors on every command; pandas and scikit-learn take seconds.
    code = (
        "import sys, mlepipe.prepare, mlepipe.preparers.errors; "
        "print(sorted({'pandas', 'sklearn'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_split_table_is_reachable_by_its_declarative_name():
    from mlepipe.prepare import resolve_preparer
    from mlepipe.preparers.splits import split_table

    assert resolve_preparer("split_table") is split_table
    with pytest.raises(PreparationError, match="unknown preparer kind 'split_tables'"):
        resolve_preparer("split_tables")
