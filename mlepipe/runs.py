"""One agent run, from an empty run directory to `run.json`, and its grade.

Run directory (`<results>/runs/<agent>/<hardware>/<competition>/<seed>/`):
  home/            what the agent sees besides the data: instructions.md, validate
  submission/      /home/submission inside the sandbox (writable)
  logs/            /home/logs (writable); agent.stdout and agent.stderr are the harness's capture
  code/            /home/code (writable)
  submission.csv   the submission after safe extraction (absent if none or rejected)
  run.json         written last: timing, exit status, limits, sandbox, Slurm job, submission status

With `sandbox: none` the agent is told the host paths of these folders (and of the public data)
instead of the sandbox's, through one `sandbox.AgentView`; its code stays the same.

Whatever the agent does, the harness finishes by writing run.json; only a broken harness fails the
pipeline job. Nothing in the run directory is followed outside it (symlinks are never followed).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlepipe.agents.config import AGENT_MOUNT, Agent, load_agents
from mlepipe.registry import PACKAGE_DIR, Competition, Registry

DATA_MOUNT = "/home/data"
SUBMISSION_MOUNT = "/home/submission"
LOGS_MOUNT = "/home/logs"
CODE_MOUNT = "/home/code"
INSTRUCTIONS_MOUNT = "/home/instructions.md"
VALIDATE_MOUNT = "/home/validate"
HOME_DIR = "/home"  # the agent's working directory
MLEPIPE_MOUNT = "/opt/mlepipe"  # the package and competition definitions, read-only
DEFAULT_SUBMISSION_CAP_MB = 1024

SLURM_VARIABLES = (
    "SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_NODELIST", "SLURM_JOB_PARTITION",
    "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU",
    "SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_CLUSTER_NAME",
)  # fmt: skip


SLURM_SAFETY_SECONDS = 60  # stop the agent this long before Slurm would kill the job


def slurm_seconds_left() -> float | None:
    """Seconds until this Slurm job's time limit (squeue's %L), or None outside Slurm."""
    job = os.environ.get("SLURM_JOB_ID")
    if not job or not shutil.which("squeue"):
        return None
    try:
        out = subprocess.run(
            ["squeue", "-h", "-j", job, "-o", "%L"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_slurm_duration(out)


def parse_slurm_duration(text: str) -> float | None:
    """'1-02:03:04', '02:03:04', '03:04' or '04' -> seconds; None for UNLIMITED or junk."""
    match = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(?:(\d+):)?(\d+)", text.strip())
    if not match:
        return None
    days, a, b, c = match.groups()
    parts = [int(x) for x in (a, b) if x is not None] + [int(c)]
    while len(parts) < 3:
        parts.insert(0, 0)
    h, m, sec = parts
    return ((int(days or 0) * 24 + h) * 60 + m) * 60 + sec


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------------
# Safe extraction


def extract_submission(src_dir: Path, dest: Path, max_bytes: int) -> tuple[bool, str | None]:
    """Copies `src_dir/submission.csv` to `dest` if it is a regular, small enough UTF-8 file.

    Returns (found, rejection reason). Never follows a symlink, never opens a fifo or device.
    """
    src = src_dir / "submission.csv"
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return False, "the agent wrote no submission.csv"
    except OSError as exc:
        return False, f"submission.csv cannot be inspected: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return True, "submission.csv is a symbolic link; only a regular file is accepted"
    if not stat.S_ISREG(st.st_mode):
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "device, fifo or socket"
        return True, f"submission.csv is a {kind}; only a regular file is accepted"
    if st.st_size > max_bytes:
        return True, f"submission.csv is {st.st_size} bytes, over the cap of {max_bytes}"
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    tmp = dest.with_name(dest.name + ".part")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped after the lstat
            return True, "submission.csv changed type while being read"
        data = b""
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            return True, f"submission.csv grew over the cap of {max_bytes} bytes"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return True, f"submission.csv is not UTF-8 text (byte {exc.start})"
        tmp.write_bytes(data)
        tmp.replace(dest)
        return True, None
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------------
# Running


INSTRUCTIONS = """\
# Instructions

You are solving a machine-learning task. Everything you need is in {data}:
the task description (description.md) and the data files. Read the description first.

- Write your predictions to {submission}/submission.csv in the format the description and the
  sample submission show. Only that file is graded.
- Keep your code in {code} and any notes or logs in {logs}.
- Check the format of your submission at any time with `{validate} {submission}/submission.csv`
  (exit status 0 means the format is valid; it does not tell you the score).
- There is no network access. Time limit: {time_limit} seconds; after that the run is stopped.
- Resources: {cpus} CPUs, {memory} of memory, {gpus}.
"""

VALIDATE_SCRIPT = """\
#!/bin/sh
# Checks a submission's format against the public sample submission (no private data needed).
exec python -m mlepipe validate "${{1:-{submission}/submission.csv}}" {competition} \\
    --public-dir {data}
"""


def _write_home(home: Path, competition: Competition, hw: dict[str, Any], at) -> None:
    """instructions.md and the validator, naming each path as the agent finds it (``at``)."""
    home.mkdir(parents=True)
    gpus = hw.get("gpus") or 0
    text = INSTRUCTIONS.format(
        data=at(DATA_MOUNT), submission=at(SUBMISSION_MOUNT), code=at(CODE_MOUNT),
        logs=at(LOGS_MOUNT), validate=at(VALIDATE_MOUNT),
        time_limit=int(hw["time_limit_seconds"]), cpus=hw.get("cpus") or "all",
        memory=f"{hw['memory_mb']} MB" if hw.get("memory_mb") else "no fixed amount",
        gpus=f"{gpus} GPU(s)" if gpus else "no GPU",
    )  # fmt: skip
    (home / "instructions.md").write_text(text)
    script = home / "validate"
    script.write_text(
        VALIDATE_SCRIPT.format(
            submission=shlex.quote(at(SUBMISSION_MOUNT)),
            competition=shlex.quote(competition.id),
            data=shlex.quote(at(DATA_MOUNT)),
        )
    )
    script.chmod(0o755)


def run_agent(
    *,
    agent: Agent,
    competition: Competition,
    hardware_name: str,
    hw: dict[str, Any],
    seed: int,
    data_dir: Path,
    run_dir: Path,
    sandbox: str = "bubblewrap",
    submission_cap_mb: int = DEFAULT_SUBMISSION_CAP_MB,
    gpu_ids: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Runs one agent on one competition; returns (and writes) the run record."""
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    # A harness orphaned by a killed pipeline may still be writing this run: wait for it to end
    # (it is bounded by the time limit) before starting again from a clean directory.
    with open(run_dir.parent / f".{run_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _run_agent_locked(
            agent=agent, competition=competition, hardware_name=hardware_name, hw=hw,
            seed=seed, data_dir=data_dir, run_dir=run_dir, sandbox=sandbox,
            submission_cap_mb=submission_cap_mb, gpu_ids=gpu_ids,
        )  # fmt: skip


def _run_agent_locked(
    *,
    agent: Agent,
    competition: Competition,
    hardware_name: str,
    hw: dict[str, Any],
    seed: int,
    data_dir: Path,
    run_dir: Path,
    sandbox: str,
    submission_cap_mb: int,
    gpu_ids: tuple[str, ...],
) -> dict[str, Any]:
    from mlepipe import sandbox as sb

    if run_dir.exists():  # a previous, unfinished attempt: start clean
        shutil.rmtree(run_dir)
    for sub in ("submission", "logs", "code"):
        (run_dir / sub).mkdir(parents=True)

    public = competition.public_dir(data_dir).resolve()
    mounts = [
        sb.Mount(public, DATA_MOUNT),
        sb.Mount(run_dir / "home" / "instructions.md", INSTRUCTIONS_MOUNT),
        sb.Mount(run_dir / "home" / "validate", VALIDATE_MOUNT),
        sb.Mount(run_dir / "submission", SUBMISSION_MOUNT, writable=True),
        sb.Mount(run_dir / "logs", LOGS_MOUNT, writable=True),
        sb.Mount(run_dir / "code", CODE_MOUNT, writable=True),
        sb.Mount(PACKAGE_DIR, f"{MLEPIPE_MOUNT}/mlepipe"),
        sb.Mount(competition.folder.parent, f"{MLEPIPE_MOUNT}/competitions"),
    ]
    if agent.code_dir:
        mounts.append(sb.Mount(agent.code_dir, AGENT_MOUNT))
    # Every path the agent is given goes through this view: the sandbox's own paths, or under
    # `sandbox: none` the host paths behind them. /home and /opt/mlepipe are no mounts
    # (bubblewrap builds them from those below); without a sandbox these folders stand for them.
    view = sb.AgentView(
        sandbox, mounts,
        folders=[sb.Mount(run_dir / "home", HOME_DIR), sb.Mount(PACKAGE_DIR.parent, MLEPIPE_MOUNT)],
    )  # fmt: skip
    at = view.path
    _write_home(run_dir / "home", competition, hw, at)

    env = {
        "DATA_DIR": at(DATA_MOUNT), "SUBMISSION_DIR": at(SUBMISSION_MOUNT),
        "LOGS_DIR": at(LOGS_MOUNT), "CODE_DIR": at(CODE_MOUNT),
        "INSTRUCTIONS": at(INSTRUCTIONS_MOUNT), "VALIDATE": at(VALIDATE_MOUNT),
        "COMPETITION_ID": competition.id, "SEED": str(seed),
        "TIME_LIMIT_SECONDS": str(int(hw["time_limit_seconds"])),
        "PYTHONPATH": at(MLEPIPE_MOUNT),
        "MLEPIPE_COMPETITIONS_DIR": at(f"{MLEPIPE_MOUNT}/competitions"),
        "PYTHONHASHSEED": str(seed), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    if hw.get("cpus"):
        env["CPUS"] = str(hw["cpus"])
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(int(hw["cpus"]))
    if hw.get("memory_mb"):
        env["MEMORY_MB"] = str(hw["memory_mb"])
    if agent.spec.get("settings"):
        env["AGENT_SETTINGS"] = json.dumps(agent.spec["settings"])
    # Secrets the agent needs, by name; their values never reach logs or run.json.
    passed = [name for name in agent.passthrough_env if name in os.environ]
    for name in passed:
        env[name] = os.environ[name]

    # Under Slurm, stop the agent before the job's own time limit, so that the run is recorded
    # as a timeout (and graded as no submission) instead of vanishing with a killed job.
    wall = float(hw["time_limit_seconds"])
    limit_source = "hardware"
    left = slurm_seconds_left()
    if left is not None and left - SLURM_SAFETY_SECONDS < wall:
        wall, limit_source = max(1.0, left - SLURM_SAFETY_SECONDS), "slurm-job-time-limit"
    limits = sb.Limits(
        wall_seconds=wall,
        memory_mb=hw.get("memory_mb"),
        cpus=hw.get("cpus"),
        pids=hw.get("pids", 4096),
        gpus=tuple(gpu_ids),
    )
    record: dict[str, Any] = {
        "agent": agent.name, "agent_version": agent.version(), "competition_id": competition.id,
        "hardware": hardware_name, "hardware_spec": hw, "seed": seed,
        "host": socket.gethostname(), "start": now(), "sandbox": sandbox,
        "env_passed_through": passed, "gpu_ids": list(gpu_ids),
        "wall_limit_seconds": wall, "wall_limit_source": limit_source,
        "slurm": {k: os.environ[k] for k in SLURM_VARIABLES if k in os.environ} or None,
    }  # fmt: skip
    print(f"run {agent.name}/{hardware_name}/{competition.id}/{seed}: starting", file=sys.stderr)
    try:
        result = sb.run_sandboxed(
            view.argv(agent.argv()), mounts=mounts, env=env, limits=limits,
            workdir=view.workdir(HOME_DIR),
            stdout=run_dir / "logs" / "agent.stdout", stderr=run_dir / "logs" / "agent.stderr",
            runner=sandbox,
        )  # fmt: skip
        record.update(
            runner=result.runner, exit_code=result.exit_code, signal=result.signal,
            timed_out=result.timed_out, oom_killed=result.oom_killed,
            wall_seconds=round(result.wall_seconds, 3), limits_enforced=result.enforced,
            sandbox_notes=result.notes, harness_error=None,
        )  # fmt: skip
    except sb.SandboxUnavailable:
        raise
    except Exception as exc:  # a run that cannot start is recorded, not fatal for the experiment
        record.update(
            runner=sandbox, exit_code=None, signal=None, timed_out=False, oom_killed=False,
            wall_seconds=0.0, limits_enforced={}, sandbox_notes=[],
            harness_error=f"{type(exc).__name__}: {exc}",
        )  # fmt: skip
    record["end"] = now()
    found, reason = extract_submission(
        run_dir / "submission", run_dir / "submission.csv", submission_cap_mb * 1024 * 1024
    )
    record["submission"] = {
        "found": found,
        "accepted": found and reason is None,
        "rejected_reason": reason,
    }
    record["status"] = _status(record)
    tmp = run_dir / "run.json.part"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(run_dir / "run.json")
    print(f"run {agent.name}/{hardware_name}/{competition.id}/{seed}: {record['status']}",
          file=sys.stderr)  # fmt: skip
    return record


def _status(r: dict[str, Any]) -> str:
    if r.get("harness_error"):
        return "harness-error"
    if r["timed_out"]:
        return "timeout"
    if r["oom_killed"]:
        return "oom"
    if r["exit_code"] != 0:
        return "crashed"
    return "ok" if r["submission"]["accepted"] else "no-submission"


# ------------------------------------------------------------------------------------------------
# CLI (used by the Snakemake rules)


def _hardware(path: Path, name: str) -> dict[str, Any]:
    from mlepipe.hardware import load_hardware

    return load_hardware(path)[name].as_run_limits()


def cmd_run_agent(args) -> int:
    agent = load_agents(Path(args.agents_file))[args.agent]
    competition = Registry().get(args.competition)
    hw = _hardware(Path(args.hardware_file), args.hardware)
    from mlepipe.cli import UserError
    from mlepipe.gpus import assigned_gpus
    from mlepipe.sandbox import SandboxUnavailable

    try:
        with assigned_gpus(int(hw.get("gpus") or 0)) as gpu_ids:
            run_agent(
            agent=agent, competition=competition, hardware_name=args.hardware, hw=hw,
            seed=args.seed, data_dir=Path(args.data_dir), run_dir=Path(args.run_dir),
                sandbox=args.sandbox, submission_cap_mb=args.submission_cap_mb,
                gpu_ids=gpu_ids,
            )  # fmt: skip
    except SandboxUnavailable as exc:
        raise UserError(str(exc)) from None
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser("run-agent", help="run one agent on one competition in a sandbox")
    sp.add_argument("--agent", required=True)
    sp.add_argument("--agents-file", default="config/agents.yaml")
    sp.add_argument("--hardware", required=True)
    sp.add_argument("--hardware-file", default="config/hardware.yaml")
    sp.add_argument("--competition", required=True)
    sp.add_argument("--seed", type=int, required=True)
    sp.add_argument("--data-dir", required=True)
    sp.add_argument("--run-dir", required=True)
    sp.add_argument("--sandbox", default="bubblewrap", choices=["bubblewrap", "none"])
    sp.add_argument("--submission-cap-mb", type=int, default=DEFAULT_SUBMISSION_CAP_MB)
    sp.set_defaults(func=cmd_run_agent)
