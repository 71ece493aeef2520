"""Raw data -> `<data-dir>/<id>/prepared/{public,private}`, the layout MLE-bench uses.

Steps: obtain `<id>.zip` (Kaggle, a mirror, or built locally for practice competitions), extract it
to `raw/`, run the competition's preparer into a temporary folder, add `description.md` to
public/, check the prepared files against the MD5s MLE-bench publishes
(`competitions/<id>/reference_checksums.yaml`), rename the folder into place, and record the MD5s
of the prepared files in `<id>/checksums.yaml`. Later uses verify that record, so silently
altered data is caught.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mlepipe.hashing import md5_file
from mlepipe.preparers.errors import ChecksumMismatch, PreparationError, ReferenceMismatch
from mlepipe.registry import Competition

log = logging.getLogger(__name__)

# The files MLE-bench checksums: top-level files of public/ and private/ with these extensions.
CHECKSUM_EXTENSIONS = ("csv", "json", "jsonl", "parquet", "bson")
# Held by the preparation of a competition, in `<data-dir>/<id>/`.
LOCK_NAME = "prepare.lock"


def checksums_of(folder: Path) -> dict[str, str]:
    out = {}
    for ext in CHECKSUM_EXTENSIONS:
        for path in sorted(folder.glob(f"*.{ext}")):
            if path.is_file():
                out[path.name] = md5_file(path)
    return dict(sorted(out.items()))


def prepared_checksums(competition: Competition, data_dir: Path) -> dict[str, dict[str, str]]:
    return _checksums_in(competition.prepared_dir(data_dir))


def _checksums_in(prepared: Path) -> dict[str, dict[str, str]]:
    return {
        "public": checksums_of(prepared / "public"),
        "private": checksums_of(prepared / "private"),
    }


def check_reference(
    competition: Competition,
    prepared: Path,
    checksums: dict[str, dict[str, str]],
    zip_md5: str | None,
    verify: bool = True,
) -> dict[str, Any]:
    """Compares freshly prepared files (`prepared`, with their `checksums`) with the MD5s MLE-bench
    publishes. A difference raises ReferenceMismatch; files that a known issue documents as
    differing, and all files when `verify` is off, are left unchecked, logged and recorded.
    Returns what `<id>/checksums.yaml` keeps about the check."""
    reference = competition.reference_checksums
    if reference is None:
        return {"status": "not verified", "reason": "MLE-bench publishes no checksums for it"}
    # Recorded, never enforced: Kaggle re-packs downloads, and a mirror may zip the same files
    # anew, so the download's bytes legitimately differ from those MLE-bench prepared from.
    outcome: dict[str, Any] = {"download_as_mlebench": zip_md5 == reference["download"]}
    deviations = competition.checksum_deviations
    if not verify or "all" in deviations:
        reason = (
            "verification was turned off (--no-verify-reference or verify_reference: false)"
            if not verify
            else f"a documented deviation: {deviations['all']}"
        )
        log.warning(
            "%s: prepared files not checked against MLE-bench's: %s", competition.id, reason
        )
        return {"status": "not verified", "reason": reason, **outcome}
    expected = reference["prepared"]
    produced = {
        f"{side}/{name}": md5 for side, files in checksums.items() for name, md5 in files.items()
    }
    differences = []
    for path in sorted((set(expected) | set(produced)) - set(deviations)):
        got, want = produced.get(path), expected.get(path)
        if got is None and (prepared / path).is_file():
            got = md5_file(prepared / path)  # in a subfolder, which our own record leaves out
        if got != want:
            differences.append(_difference(path, want, got))
    if differences:
        more = f" ({len(differences) - 1} more file(s) differ too)" if len(differences) > 1 else ""
        raise ReferenceMismatch(
            f"{competition.id}: {differences[0]}{more}, so the download is not the one MLE-bench "
            "prepared from (edited or damaged?): obtain the original download again, or prepare "
            "with --no-verify-reference (experiment: verify_reference: false) to use it as it is"
        )
    unchecked = {path: f"a documented deviation: {why}" for path, why in deviations.items()}
    for path, why in unchecked.items():
        log.warning("%s: %s not checked against MLE-bench's MD5: %s", competition.id, path, why)
    if unchecked:
        return {"status": "partly verified", "unchecked": unchecked, **outcome}
    return {"status": "verified", **outcome}


def _difference(path: str, want: str | None, got: str | None) -> str:
    if want is None:
        return f"prepared {path} (MD5 {got}) is not among MLE-bench's prepared files"
    if got is None:
        return f"prepared {path} is missing (MLE-bench's has MD5 {want})"
    return f"prepared {path} has MD5 {got} where MLE-bench's has {want}"


def _diff(expected: dict, actual: dict) -> str:
    a = yaml.safe_dump(expected, sort_keys=True).splitlines()
    b = yaml.safe_dump(actual, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "recorded", "on disk", lineterm=""))


def verify_prepared(competition: Competition, data_dir: Path) -> None:
    """Compares the prepared files with the checksums recorded when they were prepared."""
    record = competition.checksums_path(data_dir)
    if not record.is_file():
        raise ChecksumMismatch(
            f"{competition.id}: no checksum record at {record}; prepare it again with "
            f"`mlepipe prepare {competition.id} --data-dir {data_dir} --force`"
        )
    recorded = yaml.safe_load(record.read_text())
    expected = {k: recorded.get(k, {}) for k in ("public", "private")}
    actual = prepared_checksums(competition, data_dir)
    if expected != actual:
        raise ChecksumMismatch(
            f"{competition.id}: prepared files differ from {record}:\n{_diff(expected, actual)}\n"
            "Re-prepare with --force, or pass --skip-verify to use them as they are."
        )


def is_prepared(competition: Competition, data_dir: Path) -> bool:
    return (
        competition.checksums_path(data_dir).is_file()
        and competition.answers_path(data_dir).is_file()
        and competition.sample_submission_path(data_dir).is_file()
    )


def run_preparer(competition: Competition, raw: Path, public: Path, private: Path) -> None:
    spec = competition.preparation
    if spec.get("code"):
        competition.module(spec["code"]).prepare(raw=raw, public=public, private=private)
        return
    params: dict[str, Any] = {k: v for k, v in spec.items() if k != "kind"}
    resolve_preparer(spec["kind"], competition.id)(
        raw=raw, public=public, private=private, **params
    )


def resolve_preparer(kind: str, competition_id: str = ""):
    """`split_table` -> mlepipe.preparers.split_table; `images.x` -> mlepipe.preparers.images.x."""
    import importlib

    module_name, _, func = kind.rpartition(".")
    try:
        module = importlib.import_module(
            "mlepipe.preparers" + (f".{module_name}" if module_name else "")
        )
        return getattr(module, func)
    except (ImportError, AttributeError):
        raise PreparationError(f"{competition_id}: unknown preparer kind '{kind}'") from None


def prepare(
    competition: Competition,
    data_dir: Path,
    source=None,
    *,
    force: bool = False,
    verify: bool = True,
    keep_raw: bool = True,
    verify_reference: bool = True,
) -> Path:
    """Prepares one competition (idempotent); returns its prepared/ folder.

    `verify_reference` checks a new preparation against MLE-bench's published MD5s: off only for
    data that is not the original download by design (synthetic test data) or on the user's
    explicit request, and recorded either way.

    Preparations of one competition in one data dir (two experiments sharing it) take turns: each
    holds a lock on `<id>/prepare.lock` throughout, and one that waited finds the competition
    prepared (unless forced)."""
    data_dir = Path(data_dir)
    root = competition.root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _preparation_lock(root):
        return _prepare_locked(
            competition, data_dir, source, force, verify, keep_raw, verify_reference
        )


@contextlib.contextmanager
def _preparation_lock(root: Path) -> Iterator[None]:
    with open(root / LOCK_NAME, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed, or the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _scratch(path: Path) -> Path:
    """A temporary name beside `path` that no other process uses; earlier ones of a preparation
    that died are removed (the lock is held, so no live preparation owns them)."""
    for stale in path.parent.glob(path.name + ".partial*"):
        shutil.rmtree(stale, ignore_errors=True)
    return path.with_name(f"{path.name}.partial.{os.getpid()}")


def _prepare_locked(
    competition: Competition,
    data_dir: Path,
    source,
    force: bool,
    verify: bool,
    keep_raw: bool,
    verify_reference: bool,
) -> Path:
    root = competition.root(data_dir)
    prepared = competition.prepared_dir(data_dir)
    if is_prepared(competition, data_dir) and not force:
        if verify:
            verify_prepared(competition, data_dir)
        log.info("%s: already prepared at %s", competition.id, prepared)
        return prepared

    zip_md5 = _obtain_zip(competition, data_dir, source)

    raw = _extracted_raw(competition, data_dir, zip_md5)

    # Prepare into a scratch folder and rename, so an interrupted run leaves no half-prepared data.
    scratch = _scratch(prepared)
    try:
        (scratch / "public").mkdir(parents=True)
        (scratch / "private").mkdir(parents=True)
        log.info("%s: preparing public/private splits", competition.id)
        run_preparer(competition, raw, scratch / "public", scratch / "private")
        (scratch / "public" / "description.md").write_text(
            competition.description, encoding="utf-8"
        )
        # Checked before the rename: files that fail it are never taken for prepared ones.
        checksums = _checksums_in(scratch)
        reference_check = check_reference(
            competition, scratch, checksums, zip_md5, verify_reference
        )
    except BaseException as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise PreparationError(
                f"{competition.id}: no space left on the device of {root} while preparing; "
                "free disk space and prepare again"
            ) from None
        raise
    # The old record goes first: files without a record are never taken for verified ones.
    record_path = competition.checksums_path(data_dir)
    record_path.unlink(missing_ok=True)
    if prepared.exists():
        shutil.rmtree(prepared)
    scratch.rename(prepared)

    record = {"zip": zip_md5, **checksums, "reference_check": reference_check}
    partial_record = record_path.with_name(f"{record_path.name}.partial.{os.getpid()}")
    partial_record.write_text(yaml.safe_dump(record, sort_keys=True))
    partial_record.replace(record_path)
    if not keep_raw:
        shutil.rmtree(raw)
        raw.with_name("raw.extracted").unlink(missing_ok=True)
    log.info("%s: prepared at %s", competition.id, prepared)
    return prepared


def _extracted_raw(competition: Competition, data_dir: Path, zip_md5: str | None) -> Path:
    """`raw/`, extracted from the zip unless a complete extraction of the same zip (by MD5) is
    already there: re-preparing after a definition change does not extract again. Extraction
    goes to a temporary name and is renamed, and the marker is written last, so an interrupted
    extraction is never taken for a complete one."""
    raw = competition.raw_dir(data_dir)
    marker = raw.with_name("raw.extracted")
    if zip_md5 and raw.is_dir() and marker.is_file() and marker.read_text().strip() == zip_md5:
        log.info("%s: reusing raw/ extracted from the same zip (md5 %s)", competition.id, zip_md5)
        return raw
    marker.unlink(missing_ok=True)
    partial = _scratch(raw)
    if raw.exists():
        shutil.rmtree(raw)
    # Imported here: io imports pandas, and importing this module (as the CLI does) stays light.
    from mlepipe.preparers.io import extract_zip

    log.info("%s: extracting %s", competition.id, competition.zip_path(data_dir).name)
    partial.mkdir(parents=True)
    try:
        extract_zip(competition.zip_path(data_dir), partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a part of the files, on a disk likely full
        raise
    partial.rename(raw)
    if zip_md5:
        marker.write_text(zip_md5 + "\n")
    return raw


def _obtain_zip(competition: Competition, data_dir: Path, source) -> str | None:
    dest = competition.root(data_dir)
    if competition.source["kind"] == "sklearn":
        from mlepipe.practice import build_zip

        return build_zip(competition, competition.zip_path(data_dir))
    if source is None:
        from mlepipe.sources import make_source

        source = make_source(None)
    fetched = source.fetch(competition.id, competition.kaggle_slug, dest)
    return fetched.md5
