"""MLE-bench's published MD5s ship with the definitions (competitions/<id>/reference_checksums.yaml)
and every preparation of real data is checked against them: a download that is parseable but not
the original fails in one line, unless a known issue documents that the file differs or the user
turns the check off, and either is recorded in <data-dir>/<id>/checksums.yaml."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from mlepipe.prepare import prepare, verify_prepared
from mlepipe.preparers.errors import ReferenceMismatch
from mlepipe.registry import REFERENCE_CHECKSUMS, Registry, RegistryError, load_competition
from mlepipe.schemas import validate
from pipeline import Workflow

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MIRROR = SHARED / "kaggle-mirror"
SHARED_CHECKSUMS = SHARED / "mlebench-reference" / "checksums"
SMALL = "spaceship-titanic"  # the smallest mirrored download
# The first training row's Age, 39.0, becomes 40.0: still a valid table, no longer Kaggle's.
DOCTORED_ROW = (
    "0001_01,Europa,False,B/0/P,TRAPPIST-1e,39.0,",
    "0001_01,Europa,False,B/0/P,TRAPPIST-1e,40.0,",
)
ORIGINAL_TRAIN_MD5 = "564a1614ecef9d9611cec4efdce4c412"  # MLE-bench's public/train.csv


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (optional reference material beside the checkout)")
    return path


def _flat(upstream: dict) -> dict[str, str]:
    return {
        f"{side}/{n}": md5 for side in ("public", "private") for n, md5 in upstream[side].items()
    }


# --- the shipped checksums -------------------------------------------------------------------


def test_every_real_competition_ships_valid_reference_checksums(registry):
    real = [c for c in registry.all() if not c.practice]
    assert len(real) == 82
    for competition in real:
        reference = competition.reference_checksums
        assert reference is not None, competition.id
        assert competition.spec["files"]["answers"] in reference["prepared"], competition.id
    assert all(c.reference_checksums is None for c in registry.all() if c.practice)


def test_shipped_checksums_equal_mlebench_reference_material(registry):
    _require(SHARED_CHECKSUMS)
    compared = 0
    for competition in registry.all():
        source = SHARED_CHECKSUMS / f"{competition.id}.yaml"
        if competition.reference_checksums is None or not source.is_file():
            continue
        upstream = yaml.safe_load(source.read_text())
        assert competition.reference_checksums["prepared"] == _flat(upstream), competition.id
        assert competition.reference_checksums["download"] == upstream["zip"], competition.id
        compared += 1
    assert compared == 82


def test_the_script_regenerates_the_shipped_files(tmp_path, registry):
    """From a checkout laid out as MLE-bench's repository (built from the reference material)."""
    _require(SHARED_CHECKSUMS)
    checkout = tmp_path / "mle-bench"
    for source in SHARED_CHECKSUMS.glob("*.yaml"):
        folder = checkout / "mlebench" / "competitions" / source.stem
        folder.mkdir(parents=True)
        shutil.copy(source, folder / "checksums.yaml")
    competitions = tmp_path / "competitions"
    shutil.copytree(REPO / "competitions", competitions)
    for path in competitions.glob(f"*/{REFERENCE_CHECKSUMS}"):
        path.unlink()
    commit = registry.get(SMALL).reference_checksums["mlebench_commit"]
    done = subprocess.run(
        [sys.executable, REPO / "scripts" / "reference_checksums.py", checkout,
         "--commit", commit, "--competitions-dir", competitions],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 82 reference checksum files" in done.stdout
    for competition in registry.all():
        ours = competition.folder / REFERENCE_CHECKSUMS
        written = competitions / competition.id / REFERENCE_CHECKSUMS
        assert written.is_file() == ours.is_file(), competition.id
        if ours.is_file():
            assert written.read_text() == ours.read_text(), competition.id


def test_documented_deviations_name_files_mlebench_checksums(registry):
    deviating = {c.id: c.checksum_deviations for c in registry.all() if c.checksum_deviations}
    assert set(deviating) == {
        "champs-scalar-coupling",
        "icecube-neutrinos-in-deep-ice",
        "ranzcr-clip-catheter-line-classification",
    }
    for cid, files in deviating.items():
        assert set(files) <= set(registry.get(cid).reference_checksums["prepared"]), cid


# --- schemas ---------------------------------------------------------------------------------


def _issue(**extra) -> dict:
    return {"kind": "preparation", "summary": "differs", **extra}


@pytest.mark.parametrize(
    ("issue", "problem"),
    [
        (_issue(checksums_differ=["public/a.csv"]), "True was expected"),
        (_issue(deviates_from_mlebench=True, checksums_differ=["a.csv"]), "does not match"),
        (_issue(deviates_from_mlebench=True, checksums_differ=[]), "should be non-empty"),
        (_issue(deviates_from_mlebench=True, checksums_differ="some"), "does not match '^all$'"),
    ],
    ids=["without-deviates", "outside-prepared", "empty", "not-all"],
)
def test_checksums_differ_is_checked(registry, issue, problem):
    spec = copy.deepcopy(registry.get(SMALL).spec)
    spec["known_issues"] = [issue]
    with pytest.raises(RegistryError, match="known_issues.0") as caught:
        validate("competition", spec, "competition.yaml", RegistryError)
    assert problem in str(caught.value)


@pytest.mark.parametrize("files", ["all", ["public/train.csv", "private/test.csv"]])
def test_checksums_differ_accepts_all_or_files(registry, files):
    spec = copy.deepcopy(registry.get(SMALL).spec)
    spec["known_issues"] = [_issue(deviates_from_mlebench=True, checksums_differ=files)]
    validate("competition", spec, "competition.yaml", RegistryError)


def test_a_malformed_reference_file_is_named(tmp_path):
    folder = tmp_path / SMALL
    shutil.copytree(REPO / "competitions" / SMALL, folder)
    path = folder / REFERENCE_CHECKSUMS
    reference = yaml.safe_load(path.read_text())
    reference["prepared"]["public/train.csv"] = "not-an-md5"
    path.write_text(yaml.safe_dump(reference))
    with pytest.raises(RegistryError, match=r"reference_checksums.yaml is invalid") as caught:
        _ = load_competition(folder).reference_checksums
    assert "prepared.public/train.csv" in str(caught.value)


# --- preparation from real data --------------------------------------------------------------


def _doctored_mirror(tmp_path: Path) -> Path:
    """A mirror whose SMALL download is the real one but for one value of train.csv."""
    real = _require(MIRROR / f"{SMALL}.zip")
    mirror = tmp_path / "doctored-mirror"
    mirror.mkdir()
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(mirror / real.name, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "train.csv":
                assert data.count(DOCTORED_ROW[0].encode()) == 1
                data = data.replace(DOCTORED_ROW[0].encode(), DOCTORED_ROW[1].encode())
            out.writestr(info, data)
    return mirror


def _mlepipe(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlepipe", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )  # fmt: skip


def _record(data: Path, competition_id: str = SMALL) -> dict:
    return yaml.safe_load((data / competition_id / "checksums.yaml").read_text())


def _nothing_marked_prepared(data: Path) -> None:
    names = {p.name for p in (data / SMALL).iterdir()}
    assert not names & {"prepared", "checksums.yaml"}, names
    assert not [n for n in names if ".partial" in n], names


def test_a_doctored_download_fails_in_one_line_with_exit_2(tmp_path):
    mirror, data = _doctored_mirror(tmp_path), tmp_path / "data"
    done = _mlepipe("prepare", SMALL, "--mirror", str(mirror), "--data-dir", str(data))
    assert done.returncode == 2, done.stderr
    progress, error = done.stderr.strip().splitlines()
    assert progress == f"[1/1] {SMALL}"
    assert error.startswith(f"mlepipe: error: {SMALL}: prepared public/train.csv has MD5 ")
    assert f"where MLE-bench's has {ORIGINAL_TRAIN_MD5}" in error
    assert "--no-verify-reference" in error and "verify_reference: false" in error
    _nothing_marked_prepared(data)


def test_the_escape_hatch_accepts_the_download_and_records_it(tmp_path):
    mirror, data = _doctored_mirror(tmp_path), tmp_path / "data"
    args = ("prepare", SMALL, "--mirror", str(mirror), "--data-dir", str(data))
    done = _mlepipe(*args, "--no-verify-reference")
    assert done.returncode == 0, done.stderr
    assert "not checked against MLE-bench's" in done.stderr  # said, not only recorded
    record = _record(data)
    assert record["reference_check"]["status"] == "not verified"
    assert "--no-verify-reference" in record["reference_check"]["reason"]
    assert record["public"]["train.csv"] != ORIGINAL_TRAIN_MD5
    # Prepared and recorded as it is: later uses verify it against its own record.
    assert _mlepipe(*args).returncode == 0


def test_a_failed_re_preparation_keeps_the_verified_one(tmp_path, registry):
    data = tmp_path / "data"
    competition = registry.get(SMALL)
    from mlepipe.sources import MirrorSource

    prepare(competition, data, MirrorSource(_require(MIRROR)))
    before = (data / SMALL / "checksums.yaml").read_text()
    with pytest.raises(ReferenceMismatch, match="public/train.csv"):
        prepare(competition, data, MirrorSource(_doctored_mirror(tmp_path)), force=True)
    assert (data / SMALL / "checksums.yaml").read_text() == before
    verify_prepared(competition, data)
    assert _record(data)["reference_check"]["status"] == "verified"
    assert _record(data)["public"]["train.csv"] == ORIGINAL_TRAIN_MD5


def _competitions_with_deviation(tmp_path: Path, files) -> Path:
    """The competition definitions, SMALL's with a known issue saying `files` differ."""
    competitions = tmp_path / "competitions"
    shutil.copytree(
        REPO / "competitions", competitions, ignore=shutil.ignore_patterns("practice-*")
    )
    path = competitions / SMALL / "competition.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["known_issues"].append(
        {"kind": "preparation", "summary": "train.csv is rewritten here.",
         "deviates_from_mlebench": True, "checksums_differ": files}
    )  # fmt: skip
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return competitions


def test_a_documented_deviation_is_not_failed_and_is_recorded(tmp_path):
    competitions = _competitions_with_deviation(tmp_path, ["public/train.csv"])
    mirror, data = _doctored_mirror(tmp_path), tmp_path / "data"
    done = _mlepipe(
        "prepare", SMALL, "--mirror", str(mirror), "--data-dir", str(data),
        env={"MLEPIPE_COMPETITIONS_DIR": str(competitions)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "public/train.csv not checked against MLE-bench's MD5" in done.stderr
    check = _record(data)["reference_check"]
    assert check["status"] == "partly verified"
    assert check["unchecked"] == {
        "public/train.csv": "a documented deviation: train.csv is rewritten here."
    }


def test_a_deviation_of_one_file_still_checks_the_others(tmp_path):
    competitions = _competitions_with_deviation(tmp_path, ["public/test.csv"])
    mirror, data = _doctored_mirror(tmp_path), tmp_path / "data"
    with pytest.raises(ReferenceMismatch, match="public/train.csv"):
        prepare(Registry(competitions).get(SMALL), data, _mirror_source(mirror))
    _nothing_marked_prepared(data)


def test_a_deviation_of_all_files_checks_none(tmp_path):
    competitions = _competitions_with_deviation(tmp_path, "all")
    mirror, data = _doctored_mirror(tmp_path), tmp_path / "data"
    prepare(Registry(competitions).get(SMALL), data, _mirror_source(mirror))
    check = _record(data)["reference_check"]
    assert check == {
        "status": "not verified",
        "reason": "a documented deviation: train.csv is rewritten here.",
        "download_as_mlebench": False,
    }


def _mirror_source(mirror: Path):
    from mlepipe.sources import MirrorSource

    return MirrorSource(mirror)


def test_practice_competitions_record_that_mlebench_has_no_checksums(practice_data, registry):
    for cid in registry.split("practice"):
        check = _record(practice_data, cid)["reference_check"]
        assert check == {
            "status": "not verified",
            "reason": "MLE-bench publishes no checksums for it",
        }


# --- through snakemake -----------------------------------------------------------------------


@pytest.mark.slow
def test_snakemake_stops_at_a_doctored_download_and_the_setting_accepts_it(tmp_path):
    mirror = _doctored_mirror(tmp_path)
    config = {
        "competitions": [SMALL], "agents": ["dummy"], "hardware": ["cpu-small"], "seeds": [0],
        "data_dir": str(tmp_path / "data"), "mirror": str(mirror), "sandbox": "none",
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "2m"}}
    wf = Workflow(tmp_path / "wf", config, hardware=hardware, own_code=True)
    record = tmp_path / "data" / SMALL / "checksums.yaml"
    failed = wf.snakemake(str(record), check=False)
    assert failed.returncode != 0
    assert "exit status 2" in failed.stderr, failed.stderr[-3000:]
    log = (wf.results / "logs" / "prepare" / f"{SMALL}.log").read_text().strip().splitlines()
    errors = [line for line in log if line.startswith("mlepipe: error:")]
    assert errors == [log[-1]] and f"{SMALL}: prepared public/train.csv has MD5" in errors[0], log
    _nothing_marked_prepared(tmp_path / "data")
    # The escape hatch as an experiment setting: prepared, and the record says it was not checked.
    wf.snakemake(str(record), "--config", "verify_reference=false")
    assert yaml.safe_load(record.read_text())["reference_check"]["status"] == "not verified"
    # Switching it back prepares again, and the doctored download fails again.
    assert wf.snakemake(str(record), check=False).returncode != 0
