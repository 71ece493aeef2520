"""Preparation under faults: concurrent preparations, interrupted extraction, hostile or damaged
zips, a full disk. Each fault ends in one error line (exit 2) and leaves nothing half-written that
a later preparation would trust."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from mlepipe.cli import main as cli
from mlepipe.prepare import prepare, verify_prepared

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "kaggle-mirror"
SMALL = "spaceship-titanic"  # the smallest mirrored download


def _mlepipe(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "mlepipe", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".partial" in p.name)


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_preparations_take_turns(tmp_path, registry, trial):
    comp = registry.get("practice-wine")
    args = ("prepare", comp.id, "--data-dir", str(tmp_path), "--force")
    runs = [_mlepipe(*args) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    verify_prepared(comp, tmp_path)
    assert _leftovers(tmp_path / comp.id) == []


def test_a_waiting_preparation_finds_the_competition_prepared(tmp_path, registry):
    comp = registry.get("practice-wine")
    runs = [_mlepipe("-v", "prepare", comp.id, "--data-dir", str(tmp_path)) for _ in range(2)]
    logs = []
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        logs.append(err)
    assert sum("already prepared" in log for log in logs) == 1, logs
    verify_prepared(comp, tmp_path)


def _reference(tmp_path: Path, comp) -> str:
    prepare(comp, tmp_path / "reference")
    return comp.checksums_path(tmp_path / "reference").read_text()


def test_interrupted_extraction_is_extracted_again(tmp_path, registry, monkeypatch):
    comp = registry.get("practice-wine")
    data = tmp_path / "data"
    extract_member = zipfile.ZipFile._extract_member

    def one_member_then_interrupt(self, member, *args, **kwargs):
        extract_member(self, member, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(zipfile.ZipFile, "_extract_member", one_member_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        prepare(comp, data)
    root = data / comp.id
    assert not (root / "raw.extracted").exists() and not (root / "raw").exists()
    assert not comp.checksums_path(data).exists()
    monkeypatch.undo()
    prepare(comp, data)
    verify_prepared(comp, data)
    assert comp.checksums_path(data).read_text() == _reference(tmp_path, comp)
    assert _leftovers(root) == []


def test_extraction_killed_by_sigkill_is_extracted_again(tmp_path, registry):
    comp = registry.get("practice-wine")
    data = tmp_path / "data"
    # A preparation whose process dies (kill -9) after the first member is written.
    script = textwrap.dedent(
        f"""
        import os, signal, zipfile
        from mlepipe.prepare import prepare
        from mlepipe.registry import Registry
        extract_member = zipfile.ZipFile._extract_member
        def die(self, member, *args, **kwargs):
            extract_member(self, member, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        zipfile.ZipFile._extract_member = die
        prepare(Registry({str(REPO / "competitions")!r}).get({comp.id!r}), {str(data)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", script], env=env, timeout=300)
    assert killed.returncode == -9
    root = data / comp.id
    assert not (root / "raw.extracted").exists() and not (root / "raw").exists()
    assert cli(["prepare", comp.id, "--data-dir", str(data)]) == 0
    verify_prepared(comp, data)
    assert comp.checksums_path(data).read_text() == _reference(tmp_path, comp)
    assert _leftovers(root) == []


# --------------------------------------------------------------------------------------------
# Bad mirror contents


def _mirror_with(tmp_path: Path, extra) -> Path:
    """A mirror holding the real download of SMALL plus what `extra(zipfile)` adds."""
    real = MIRROR / f"{SMALL}.zip"
    if not real.is_file():
        pytest.skip(f"{real} not found (optional reference data)")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(mirror / real.name, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        extra(out)
    return mirror


def _symlink_member(out: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("train_link.csv")
    info.external_attr = 0o120777 << 16
    out.writestr(info, "/etc/passwd")


def _zeros_member(out: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("zeros.bin")
    info.compress_type = zipfile.ZIP_DEFLATED
    block = bytes(1 << 20)
    with out.open(info, "w", force_zip64=True) as member:
        for _ in range(256):  # 256 MiB of zeros, about 250 KiB packed
            member.write(block)


def _one_error_line(capsys, fragment: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("[1/1]"), err  # the progress line, then the error
    assert err[1].startswith("mlepipe: error: ") and fragment in err[1], err


def _nothing_trusted(data: Path) -> None:
    root = data / SMALL
    names = {p.name for p in root.iterdir()} if root.is_dir() else set()
    assert not names & {"raw", "raw.extracted", "prepared", "checksums.yaml"}, names
    assert _leftovers(root) == [] if root.is_dir() else True


@pytest.mark.parametrize(
    "extra, fragment",
    [(_symlink_member, "is a symbolic link"), (_zeros_member, "zip bomb")],
    ids=["symlink", "zip-bomb"],
)
def test_hostile_members_are_refused(tmp_path, capsys, extra, fragment):
    mirror = _mirror_with(tmp_path, extra)
    data = tmp_path / "data"
    assert cli(["prepare", SMALL, "--mirror", str(mirror), "--data-dir", str(data)]) == 2
    _one_error_line(capsys, fragment)
    _nothing_trusted(data)


def test_garbage_instead_of_a_zip_is_refused(tmp_path, capsys):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / f"{SMALL}.zip").write_bytes(os.urandom(5000))
    data = tmp_path / "data"
    assert cli(["prepare", SMALL, "--mirror", str(mirror), "--data-dir", str(data)]) == 2
    _one_error_line(capsys, "not a valid zip")
    _nothing_trusted(data)


def test_every_mirrored_download_passes_the_zip_limits():
    from mlepipe.preparers.io import _refused_member

    zips = sorted(MIRROR.glob("*.zip"))
    if not zips:
        pytest.skip(f"no zips in {MIRROR} (optional reference data)")
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            assert [i.filename for i in zf.infolist() if _refused_member(i)] == [], path


@pytest.fixture
def small_disk(tmp_path):
    """A 1.2 MiB tmpfs: room for the download of SMALL, not for its extraction."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_during_extraction_is_one_line_and_recovers(small_disk, capsys, registry):
    if not (MIRROR / f"{SMALL}.zip").is_file():
        pytest.skip(f"{MIRROR} not found (optional reference data)")
    args = ["prepare", SMALL, "--mirror", str(MIRROR), "--data-dir", str(small_disk)]
    assert cli(args) == 2
    _one_error_line(capsys, "No space left on device")
    _nothing_trusted(small_disk)
    # With room again, the next preparation extracts anew and is complete.
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)], check=True)
    assert cli(args) == 0
    verify_prepared(registry.get(SMALL), small_disk)


def test_a_full_disk_during_preparation_is_one_line(small_disk, capsys, registry):
    if not (MIRROR / f"{SMALL}.zip").is_file():
        pytest.skip(f"{MIRROR} not found (optional reference data)")
    # Room for the download and its extraction (about 1.5 MiB), not for the prepared files.
    subprocess.run(["mount", "-o", "remount,size=2000k", str(small_disk)], check=True)
    args = ["prepare", SMALL, "--mirror", str(MIRROR), "--data-dir", str(small_disk)]
    assert cli(args) == 2
    _one_error_line(capsys, "no space left")
    root = small_disk / SMALL
    assert not {"prepared", "checksums.yaml"} & {p.name for p in root.iterdir()}
    assert _leftovers(root) == []
