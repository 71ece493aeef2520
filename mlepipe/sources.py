"""Acquisition of competitions' raw data: the zip that ``kaggle competitions download`` delivers.

Two sources share one interface: a mirror directory of ``<competition-id>.zip`` files (how
machines without internet access are staged) and the Kaggle API through the ``kaggle`` client.
Either way the zip lands in ``<dest_dir>/<competition-id>.zip`` only once it is complete and
opens as a zip, with its MD5 beside it in ``<competition-id>.zip.md5`` (``md5sum -c`` format).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import webbrowser
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mlepipe.hashing import md5_file_cached

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
_T = TypeVar("_T")
KAGGLE_TOKEN_PAGE = "https://www.kaggle.com/settings/api"


class AcquisitionError(RuntimeError):
    """Raw data could not be obtained; the message says what went wrong and what to do."""


@dataclass(frozen=True)
class FetchedZip:
    path: Path  # final <dest_dir>/<competition_id>.zip
    md5: str
    source: str  # "mirror:<dir>" or "kaggle"


class Source(Protocol):
    def fetch(self, competition_id: str, kaggle_slug: str, dest_dir: Path) -> FetchedZip: ...


# --- zip placement shared by both sources -----------------------------------------------------


class _BadZip(Exception):
    """A file that is not a usable zip; the message says why."""


def _check_zip(path: Path, deep: bool) -> None:
    """Raise _BadZip unless ``path`` is a zip whose members all lie within the file.

    ``deep`` also decompresses every member and checks its CRC (zipfile.testzip). Members in a
    compression Python cannot read (e.g. Deflate64) or encrypted are left to the structural
    check.
    """
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not infos:
                raise _BadZip("it holds no files")
            for info in infos:
                if info.header_offset + info.compress_size > size:
                    raise _BadZip(f"member {info.filename} extends past the end of the file")
            if deep:
                for info in infos:
                    encrypted = info.flag_bits & 0x1
                    if info.is_dir() or encrypted or info.compress_type not in _READABLE:
                        continue
                    with zf.open(info) as member:  # reading to the end verifies the CRC
                        while member.read(_CHUNK):
                            pass
    except _BadZip:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise _BadZip(_one_line(exc) or type(exc).__name__) from exc
    except Exception as exc:  # zlib/bz2/lzma errors on damaged member data
        raise _BadZip(f"{type(exc).__name__}: {_one_line(exc)}") from exc


_READABLE = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _same_file(a: Path, b: Path) -> bool:
    """Same content, by size and then MD5 (`b` may be absent)."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    return md5_file_cached(a) == md5_file_cached(b)


def _final_path(dest_dir: Path, competition_id: str) -> Path:
    return Path(dest_dir) / f"{competition_id}.zip"


def _temp_beside(final: Path) -> Path:
    """A fresh hidden name in ``final``'s directory (same disk, so renaming is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")


def _write_md5_file(zip_path: Path, md5: str) -> None:
    """Record ``md5`` beside the zip in md5sum format (left alone when already right)."""
    sidecar = zip_path.with_name(zip_path.name + ".md5")
    line = f"{md5}  {zip_path.name}\n"
    try:
        if sidecar.is_file() and sidecar.read_text() == line:
            return
        tmp = _temp_beside(sidecar)
        tmp.write_text(line)
        os.replace(tmp, sidecar)
    except OSError as exc:  # e.g. a zip reused in place on a read-only mirror
        log.warning("could not record the MD5 in %s: %s", sidecar, exc)


def _reuse(final: Path, source: str) -> FetchedZip | None:
    """Return the zip already at ``final`` if there is one; raise if it is damaged."""
    if not final.exists():
        return None
    try:
        # Only complete, fully verified zips are ever renamed to this name, so a structural
        # check suffices here; the MD5 is recomputed because the file may have been re-staged.
        _check_zip(final, deep=False)
    except _BadZip as exc:
        raise AcquisitionError(
            f"{final} exists but is not a valid zip ({exc}); stage a good copy in the "
            "mirror, or delete it to download it again"
        ) from exc
    md5 = md5_file_cached(final)
    _write_md5_file(final, md5)
    log.info("reusing %s (md5 %s)", final, md5)
    return FetchedZip(path=final, md5=md5, source=source)


def _place(
    candidate: Path, final: Path, md5: str, source: str, origin: str, fix: str
) -> FetchedZip:
    """Verify ``candidate`` (a temporary file beside ``final``) and rename it to ``final``."""
    try:
        _check_zip(candidate, deep=True)
    except _BadZip as exc:
        raise AcquisitionError(f"{origin} is not a valid zip ({exc}); {fix}") from exc
    os.replace(candidate, final)
    _write_md5_file(final, md5)
    log.info("placed %s (md5 %s) from %s", final, md5, source)
    return FetchedZip(path=final, md5=md5, source=source)


def _one_line(exc: BaseException | str, limit: int = 300) -> str:
    # Signed download URLs carry credentials in their query strings: never echo those.
    text = re.sub(r"\?\S*", "", " ".join(str(exc).split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- mirror ------------------------------------------------------------------------------------


class MirrorSource:
    """A directory of ``<competition-id>.zip`` files, each as Kaggle delivers it."""

    def __init__(self, mirror_dir: Path):
        self.mirror_dir = Path(mirror_dir)

    @property
    def name(self) -> str:
        return f"mirror:{self.mirror_dir}"

    def fetch(self, competition_id: str, kaggle_slug: str, dest_dir: Path) -> FetchedZip:
        dest_dir = Path(dest_dir)
        final = _final_path(dest_dir, competition_id)
        src = self.mirror_dir / f"{competition_id}.zip"
        # The copy in the data dir serves only while it is the mirror's zip: a zip re-staged in
        # the mirror (or one the mirror no longer has) is copied again.
        if not src.is_file() or _same_file(src, final):
            reused = _reuse(final, self.name)
            if reused is not None:
                return reused
        self._require(src, competition_id, kaggle_slug)
        tmp = _temp_beside(final)
        try:
            digest = hashlib.md5()
            try:
                dest_dir.mkdir(parents=True, exist_ok=True)
                with tmp.open("xb") as out, src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):  # copy and hash in one pass
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                raise AcquisitionError(
                    f"cannot copy {src} to {dest_dir} ({exc.strerror or exc}); check that the "
                    "destination is writable and has room for the zip"
                ) from exc
            return _place(
                tmp,
                final,
                digest.hexdigest(),
                self.name,
                origin=str(src),
                fix=f"re-stage it in the mirror (kaggle competitions download -c {kaggle_slug})",
            )
        finally:
            tmp.unlink(missing_ok=True)

    def _require(self, src: Path, competition_id: str, kaggle_slug: str) -> None:
        if not self.mirror_dir.is_dir():
            raise AcquisitionError(
                f"mirror directory {self.mirror_dir} does not exist; create it and stage "
                f"{competition_id}.zip there, or point the mirror setting at the right directory"
            )
        if src.is_file():
            return
        # A hint, not a listing: mirrors can hold dozens of competitions.
        staged = sorted(p.stem for p in self.mirror_dir.glob("*.zip"))
        near = difflib.get_close_matches(competition_id, staged, n=3)
        hint = f"; similar names there: {', '.join(n + '.zip' for n in near)}" if near else ""
        raise AcquisitionError(
            f"{src} not found (the mirror holds {len(staged)} zip files{hint}); stage it with "
            f"'kaggle competitions download -c {kaggle_slug} -p {self.mirror_dir}' and name it "
            f"{competition_id}.zip"
        )


# --- Kaggle API --------------------------------------------------------------------------------


def _kaggle_config_dir() -> Path:
    """Where the kaggle client looks for kaggle.json (the same rule as kaggle 2.2.4)."""
    configured = os.environ.get("KAGGLE_CONFIG_DIR")
    if configured:
        return Path(configured)
    home_dir = Path.home() / ".kaggle"
    if sys.platform.startswith("linux") and not home_dir.exists():
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(xdg) / "kaggle"
    return home_dir


def has_kaggle_credentials() -> bool:
    """Whether the kaggle client would find credentials (checked before any job starts; whether
    they are accepted is only known when Kaggle answers)."""
    env = os.environ
    if env.get("KAGGLE_API_TOKEN") or (env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY")):
        return True
    return (_kaggle_config_dir() / "kaggle.json").is_file()


def kaggle_rules_page(kaggle_slug: str) -> str:
    return f"https://www.kaggle.com/c/{kaggle_slug}/rules"


def _no_credentials_message() -> str:
    config = _kaggle_config_dir() / "kaggle.json"
    if config.is_file():
        return (
            f'{config} holds no usable Kaggle credentials; it must be JSON with "username" '
            'and "key" (or set KAGGLE_USERNAME and KAGGLE_KEY)'
        )
    return f"no Kaggle credentials found; put them in {_credentials_hint()}"


def _credentials_hint() -> str:
    return (
        f"{_kaggle_config_dir() / 'kaggle.json'} "
        '({"username": ..., "key": ...}, chmod 600) or the environment variables '
        f"KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN); tokens: {KAGGLE_TOKEN_PAGE}"
    )


_CLIENT_LOCK = threading.RLock()


class _Interaction(Exception):
    """The client tried to prompt or to open a browser."""


@contextlib.contextmanager
def _unattended() -> Iterator[io.StringIO]:
    """Run client code with no terminal: empty stdin, no browser, stdout captured.

    The client prints auth help and warnings to stdout and, on some paths, asks questions
    with input() or opens a browser for OAuth; in a pipeline each would hang or mislead.
    """

    def refuse_browser(*_args: Any, **_kwargs: Any) -> bool:
        raise _Interaction("the Kaggle client tried to open a browser for an interactive login")

    captured = io.StringIO()
    with _CLIENT_LOCK:  # the swaps below are process-wide: one client call at a time
        saved_stdin, saved_open = sys.stdin, webbrowser.open
        try:
            sys.stdin = io.StringIO("")  # input() then raises EOFError at once
            webbrowser.open = refuse_browser
            with contextlib.redirect_stdout(captured):
                yield captured
        finally:
            sys.stdin, webbrowser.open = saved_stdin, saved_open
            for line in filter(None, (x.strip() for x in captured.getvalue().splitlines())):
                level = logging.WARNING if line.lower().startswith("warning") else logging.DEBUG
                log.log(level, "kaggle client: %s", line)


_import_failure: str | None = None


def kaggle_api() -> Any:
    """A fresh KaggleApi that follows the current environment (authenticate() before use)."""
    global _import_failure
    if _import_failure is not None:  # a failed import leaves half-made modules behind
        raise AcquisitionError(_import_failure)
    try:
        with _unattended():
            # Importing kaggle already tries to authenticate and prints help when it cannot.
            from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError as exc:
        _import_failure = (
            f"the kaggle client cannot be imported ({_one_line(exc)}); install the project's "
            "dependencies (pip install -e .), which include kaggle==2.2.4 and six"
        )
        raise AcquisitionError(_import_failure) from exc
    api = KaggleApi()
    # The client reads these once, when it is first imported; follow the environment of now.
    # Its verbose mode is left off: it prints request headers, credentials included.
    config_dir = _kaggle_config_dir()
    api.config_dir = str(config_dir)
    api.config = str(config_dir / "kaggle.json")
    local = os.environ.get("KAGGLE_API_ENVIRONMENT") == "LOCALHOST"
    api.args = ["--local"] if local else []
    return api


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _server_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    try:
        message = response.json().get("message")  # type: ignore[union-attr]
    except Exception:
        message = None
    return _one_line(message or exc, limit=200)


def _is_transient(exc: BaseException) -> bool:
    import requests
    import urllib3.exceptions

    status = _http_status(exc)
    if isinstance(exc, requests.HTTPError) and status is not None:
        return status >= 500 or status in (408, 429)
    if isinstance(exc, ValueError) and "does not match expected size" in str(exc):
        return True  # the client's own check of a truncated body
    return isinstance(
        exc,
        (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError,
            ConnectionError,
            TimeoutError,
        ),
    )


def _permanent_error(exc: BaseException, slug: str) -> AcquisitionError:
    status = _http_status(exc)
    detail = _server_message(exc)
    if status == 401:
        return AcquisitionError(
            f"Kaggle rejected the credentials (HTTP 401: {detail}); check them in "
            f"{_credentials_hint()}"
        )
    if status == 403:
        return AcquisitionError(
            f"Kaggle refused access to competition '{slug}' (HTTP 403: {detail}); accept its "
            f"rules at {kaggle_rules_page(slug)} while logged in as the account "
            "whose credentials are used here, then rerun"
        )
    if status == 404:
        return AcquisitionError(
            f"Kaggle knows no competition '{slug}' (HTTP 404: {detail}); check the Kaggle slug "
            f"(https://www.kaggle.com/c/{slug} should exist)"
        )
    if status is not None:
        return AcquisitionError(f"Kaggle answered HTTP {status} for competition '{slug}': {detail}")
    return AcquisitionError(
        f"the Kaggle client failed for competition '{slug}' ({type(exc).__name__}: {detail})"
    )


def with_retries(call: Callable[[], _T], slug: str, retries: int, backoff_seconds: float) -> _T:
    """Run ``call`` up to ``retries + 1`` times, backing off after transient failures."""
    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        try:
            with _unattended():
                return call()
        except AcquisitionError:
            raise
        except SystemExit as exc:  # the client's answer to "no credentials at all"
            raise AcquisitionError(_no_credentials_message()) from exc
        except (EOFError, _Interaction) as exc:
            raise AcquisitionError(
                f"the Kaggle client asked for interactive input ({_one_line(exc) or 'stdin'}); "
                f"provide credentials non-interactively in {_credentials_hint()}"
            ) from exc
        except Exception as exc:
            if not _is_transient(exc):
                raise _permanent_error(exc, slug) from exc
            if attempt == attempts:
                raise AcquisitionError(
                    f"Kaggle request for competition '{slug}' failed {attempts} times, last with "
                    f"{type(exc).__name__}: {_server_message(exc)}; check that this machine "
                    "reaches api.kaggle.com (set HTTPS_PROXY if it needs a proxy) and rerun, or "
                    "stage the zip in a mirror directory"
                ) from exc
            delay = backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                "Kaggle request for %s failed (%s: %s); attempt %d of %d, retrying in %.1f s",
                slug,
                type(exc).__name__,
                _server_message(exc),
                attempt,
                attempts,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


class KaggleSource:
    """The Kaggle API through the installed ``kaggle`` client (credentials as it finds them).

    A transient failure (connection reset, timeout, HTTP 5xx/429) is retried ``retries``
    times, waiting ``backoff_seconds``, then twice that, and so on; other failures are not.
    Calls of the client are serialized within a process (see ``_unattended``).
    """

    name = "kaggle"

    def __init__(self, retries: int = 3, backoff_seconds: float = 5.0):
        if retries < 0 or backoff_seconds < 0:
            raise ValueError("retries and backoff_seconds must not be negative")
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    def fetch(self, competition_id: str, kaggle_slug: str, dest_dir: Path) -> FetchedZip:
        dest_dir = Path(dest_dir)
        final = _final_path(dest_dir, competition_id)
        reused = _reuse(final, self.name)
        if reused is not None:
            return reused
        api = kaggle_api()
        # The client names its output after the slug and the URL; a private folder beside the
        # final name keeps that out of sight and makes the last step a same-disk rename.
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(dir=dest_dir, prefix=f".{final.name}.download-"))
        except OSError as exc:
            raise AcquisitionError(
                f"cannot create a download folder in {dest_dir} ({exc.strerror or exc}); check "
                "that it is writable"
            ) from exc
        try:
            log.info("downloading competition %s from Kaggle into %s", kaggle_slug, work)

            def download() -> None:
                api.authenticate()
                api.competition_download_files(kaggle_slug, path=str(work), force=True, quiet=True)

            with_retries(download, kaggle_slug, self.retries, self.backoff_seconds)
            files = [p for p in work.iterdir() if p.is_file() and p.suffix != ".kaggle-partial"]
            if len(files) != 1:
                raise AcquisitionError(
                    f"the Kaggle client left {len(files)} files for '{kaggle_slug}' where one zip "
                    f"was expected ({', '.join(sorted(p.name for p in files)) or 'none'}); rerun"
                )
            return _place(
                files[0],
                final,
                md5_file_cached(files[0]),
                self.name,
                origin=f"the zip downloaded from Kaggle for '{kaggle_slug}' (meant for {final})",
                fix=f"nothing was kept in {dest_dir}; rerun to download it again",
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)


def make_source(mirror_dir: Path | None) -> Source:
    """The mirror when a directory is given, else the Kaggle API."""
    if mirror_dir is None or str(mirror_dir) == "":  # an empty setting means "no mirror"
        return KaggleSource()
    return MirrorSource(Path(mirror_dir))
