"""The contract every builtin agent shares with the harness.

The harness runs an agent as a process configured by environment variables (`AgentEnv`): the
public data to read, where to write the submission, logs and code, the seed, the time limit,
CPUs and memory, and a validator to check the submission with. This module reads them and gives
what each agent needs around its own work: logging, the sample submission, writing the
submission atomically, calling the validator, a record of the run in the code folder, and the
time budget (wall-clock caps that interrupt work running past its share).

Standard library only: the dummy agent starts without loading numpy or pandas.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

AGENTS_DIR = Path(__file__).resolve().parent  # code copies are named relative to it


# --------------------------------------------------------------------------------------------
# Environment


def _int_env(environ: dict[str, str], name: str, default: int | None) -> int | None:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(float(value))
    except ValueError:
        raise SystemExit(
            f"{name}={value!r} is not a number; set it to an integer or unset it"
        ) from None


@dataclass(frozen=True)
class AgentEnv:
    """The contract between the harness and an agent, read from environment variables."""

    data_dir: Path
    submission_dir: Path
    logs_dir: Path
    code_dir: Path
    competition_id: str
    seed: int
    time_limit: float | None
    cpus: int
    memory_mb: int | None
    validate: str | None

    @property
    def submission_path(self) -> Path:
        return self.submission_dir / "submission.csv"

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> AgentEnv:
        env = dict(os.environ if environ is None else environ)
        cpus = _int_env(env, "CPUS", None) or len(os.sched_getaffinity(0)) or 1
        limit = _int_env(env, "TIME_LIMIT_SECONDS", None)
        return cls(
            data_dir=Path(env.get("DATA_DIR") or "/home/data"),
            submission_dir=Path(env.get("SUBMISSION_DIR") or "/home/submission"),
            logs_dir=Path(env.get("LOGS_DIR") or "/home/logs"),
            code_dir=Path(env.get("CODE_DIR") or "/home/code"),
            competition_id=env.get("COMPETITION_ID", ""),
            seed=_int_env(env, "SEED", 0) or 0,
            time_limit=float(limit) if limit and limit > 0 else None,
            cpus=max(1, cpus),
            memory_mb=_int_env(env, "MEMORY_MB", None),
            validate=env.get("VALIDATE") or None,
        )


def process_age() -> float:
    """Seconds since this process started (Linux), so that interpreter start and imports count
    against the time limit too; 0 where unknown."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - started)
    except (OSError, ValueError, IndexError):
        return 0.0


class Budget:
    """Wall-clock time left for the agent's work: a `share` of the time limit (the rest is kept
    for writing the answer), counted from `used` seconds already spent."""

    def __init__(self, limit: float | None, used: float = 0.0, share: float = 1.0):
        self.start = time.monotonic() - used
        self.limit = limit * share if limit else None

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return math.inf if self.limit is None else self.limit - self.elapsed()


_caps: list[tuple[float, Exception]] = []  # active time caps: (monotonic end, error to raise)


def _arm() -> None:
    if not _caps:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    end = min(e for e, _ in _caps)
    signal.setitimer(signal.ITIMER_REAL, max(end - time.monotonic(), 0.001))


def _expire(signum, frame) -> None:
    now = time.monotonic()
    due = [(e, err) for e, err in _caps if e <= now + 0.001]
    if due:
        # Fire again soon in case a library swallows the error; leaving the cap disarms this.
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise min(due, key=lambda d: d[0])[1]
    _arm()  # woke early: wait for the next cap


@contextmanager
def time_cap(seconds: float, error: Exception) -> Iterator[None]:
    """Raises `error` in the main thread once `seconds` have passed. Caps nest: the earliest one
    fires first, and leaving a cap re-arms the ones around it. No-op for an infinite cap."""
    if not math.isfinite(seconds) or not hasattr(signal, "setitimer"):
        yield
        return
    if not _caps:
        signal.signal(signal.SIGALRM, _expire)
    entry = (time.monotonic() + max(seconds, 0.0), error)
    _caps.append(entry)
    _arm()
    try:
        yield
    finally:
        _caps.remove(entry)
        _arm()


# --------------------------------------------------------------------------------------------
# Files: logs, the sample submission, the submission, the record in the code folder


def setup_logging(logs_dir: Path, name: str) -> None:
    """Logs to stderr and to `<logs_dir>/<name>.log`."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        logs_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logs_dir / f"{name}.log", encoding="utf-8"))
    except OSError:
        pass  # logging to stderr alone is still useful
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=handlers,
        force=True,
    )


def find_sample_submission(data_dir: Path) -> Path | None:
    """The sample submission: a top-level CSV named like `*sample*submission*` (any case)."""
    if not data_dir.is_dir():
        return None
    csvs = sorted(p for p in data_dir.iterdir() if p.is_file() and p.name.lower().endswith(".csv"))
    sample = [p for p in csvs if "sample" in p.name.lower() and "submission" in p.name.lower()]
    other = [p for p in csvs if "submission" in p.name.lower() and p not in sample]
    ranked = sample + other
    return ranked[0] if ranked else None


def no_sample_submission(env: AgentEnv, summary: dict[str, Any]) -> None:
    """Logs and records that there is no sample submission to start from."""
    log.error("no sample submission (*sample*submission*.csv) in %s; nothing written", env.data_dir)
    summary["result"] = "no submission: no sample submission found"


def write_submission(path: Path, write: Callable[[Path], object]) -> None:
    """Writes a submission through `write(temporary path)` in the same folder, then renames it
    into place, so that an interrupted write leaves the previous file, never part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unfinished = path.with_name("." + path.name + ".partial")
    try:
        write(unfinished)
        os.replace(unfinished, path)
    finally:
        unfinished.unlink(missing_ok=True)


def copy_submission(source: Path, path: Path) -> None:
    """Writes a copy of `source` (the sample submission, say) as the submission, atomically."""
    write_submission(path, lambda unfinished: shutil.copyfile(source, unfinished))


def run_validator(validator: str | None, path: Path) -> tuple[bool, str]:
    """Runs the harness's validator on `path`: whether it passed, and what it said. A validator
    that cannot run does not count against the submission."""
    if not validator:
        return True, "no validator given"
    try:
        done = subprocess.run([validator, str(path)], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return True, f"validator could not run ({exc}); not counted against the submission"
    message = (done.stdout + done.stderr).strip()
    return done.returncode == 0, message


def save_record(code_dir: Path, summary: dict[str, Any], code: Iterable[Path] = ()) -> None:
    """Writes `summary.json` and copies of the agent's code (named relative to mlepipe/agents)
    to the code folder. A failure is logged, not raised: the submission matters more."""
    try:
        code_dir.mkdir(parents=True, exist_ok=True)
        for path in code:
            copy = code_dir / path.relative_to(AGENTS_DIR)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        (code_dir / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str, sort_keys=True) + "\n"
        )
    except OSError as exc:
        log.warning("could not save code and summary to %s: %s", code_dir, exc)
