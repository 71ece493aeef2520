"""Grading trusts only private answers that match the MD5s recorded when they were prepared."""

from __future__ import annotations

import json
import shutil

import pytest

from mlepipe import hashing
from mlepipe.cli import main as cli

COMPETITION = "practice-wine"


@pytest.fixture
def data(tmp_path, practice_data):
    """A private copy of practice-wine's prepared data, free to edit."""
    shutil.copytree(practice_data / COMPETITION, tmp_path / COMPETITION)
    return tmp_path


def _grade_sample(data, registry) -> int:
    comp = registry.get(COMPETITION)
    sample = comp.sample_submission_path(data)
    return cli(["grade-sample", str(sample), COMPETITION, "--data-dir", str(data)])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mlepipe: error: "), err
    return err[0]


def test_unedited_answers_grade_as_before(data, practice_data, registry, capsys):
    assert _grade_sample(data, registry) == 0
    copied = json.loads(capsys.readouterr().out)
    assert _grade_sample(practice_data, registry) == 0
    original = json.loads(capsys.readouterr().out)
    assert copied["score"] == original["score"] and copied["valid_submission"] is True


def test_edited_answers_are_an_error_not_a_score(data, registry, capsys):
    assert _grade_sample(data, registry) == 0  # hashes (and caches) the answers once
    capsys.readouterr()
    answers = registry.get(COMPETITION).answers_path(data)
    lines = answers.read_text().splitlines(keepends=True)
    lines[1] = lines[1][:-2] + ("1\n" if lines[1][-2] != "1" else "0\n")
    answers.write_text("".join(lines))
    assert _grade_sample(data, registry) == 2
    line = _error_line(capsys)
    assert str(answers) in line and "differs from the MD5" in line
    assert f"mlepipe prepare {COMPETITION}" in line and "--force" in line


def test_missing_record_or_answers_are_errors(data, registry, capsys):
    comp = registry.get(COMPETITION)
    comp.answers_path(data).unlink()
    assert _grade_sample(data, registry) == 2
    assert "not found" in _error_line(capsys)
    comp.checksums_path(data).unlink()
    shutil.copy(comp.sample_submission_path(data), comp.answers_path(data))
    assert _grade_sample(data, registry) == 2
    assert "no checksum record" in _error_line(capsys)


def test_answers_are_hashed_once_per_size_and_mtime(data, registry, capsys, monkeypatch):
    hashed = []
    md5_file = hashing.md5_file

    def counting(path):
        hashed.append(path)
        return md5_file(path)

    hashing._md5_unchanged.cache_clear()
    monkeypatch.setattr(hashing, "md5_file", counting)
    for _ in range(3):
        assert _grade_sample(data, registry) == 0
    assert len(hashed) == len(set(hashed)) == 1
