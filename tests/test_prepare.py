"""Preparation: MLE-bench's data-dir layout, determinism, checksum records and their check."""

import shutil

import pandas as pd
import pytest

from mlepipe.prepare import prepare, verify_prepared
from mlepipe.preparers.errors import ChecksumMismatch


def test_layout_is_mlebench_data_dir(practice_data, registry):
    comp = registry.get("practice-digits")
    root = practice_data / comp.id
    assert (root / f"{comp.id}.zip").is_file() and (root / "raw").is_dir()
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    assert {p.name for p in public.iterdir()} == {
        "train.csv",
        "test.csv",
        "sample_submission.csv",
        "description.md",
        "train",
        "test",
    }
    assert [p.name for p in private.iterdir()] == ["test.csv"]
    test_ids = set(pd.read_csv(public / "test.csv")["id"])
    assert test_ids == set(pd.read_csv(private / "test.csv")["id"])
    assert {f"{i}.png" for i in test_ids} == {p.name for p in (public / "test").iterdir()}
    assert "label" not in pd.read_csv(public / "test.csv").columns


def test_preparation_is_deterministic(tmp_path, practice_data, registry):
    for cid in registry.split("practice"):
        comp = registry.get(cid)
        prepare(comp, tmp_path)
        a = (comp.checksums_path(tmp_path)).read_text()
        b = (comp.checksums_path(practice_data)).read_text()
        assert a == b, cid


def test_tampered_files_fail_verification_with_a_diff(tmp_path, practice_data, registry):
    comp = registry.get("practice-diabetes")
    shutil.copytree(practice_data / comp.id, tmp_path / comp.id)
    answers = comp.answers_path(tmp_path)
    answers.write_text(answers.read_text().replace("1", "2", 1))
    with pytest.raises(ChecksumMismatch) as err:
        verify_prepared(comp, tmp_path)
    assert "-  test.csv:" in str(err.value) and "+  test.csv:" in str(err.value)
    with pytest.raises(ChecksumMismatch):
        prepare(comp, tmp_path)  # a later use verifies
    prepare(comp, tmp_path, verify=False)  # the explicit opt-out
    prepare(comp, tmp_path, force=True)  # or prepare again
    verify_prepared(comp, tmp_path)
