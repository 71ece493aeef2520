"""What the harness and the pipeline ask Slurm: the running job's time left and allocation, whether
a job is still alive, and the jobs an earlier invocation of this workflow left behind.

Every function answers None (or nothing) outside Slurm or where the Slurm commands fail, so the
same code runs on a workstation. Jobs are only ever looked up by id, or among the calling user's
own jobs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SLURM_SAFETY_SECONDS = 60  # stop the agent this long before Slurm would kill the job
# States in which a job still holds (or will hold) resources.
ALIVE_STATES = {
    "PENDING", "RUNNING", "SUSPENDED", "COMPLETING", "CONFIGURING", "REQUEUED", "RESIZING",
    "STOPPED", "SIGNALING", "STAGE_OUT", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT",
}  # fmt: skip
# The executor plugin names every job of one invocation "<prefix>_<uuid4>" (or just the uuid).
_RUN_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _query(argv: list[str]) -> str | None:
    """A Slurm command's output, or None where it is missing or fails."""
    if not shutil.which(argv[0]):
        return None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def current_job_id() -> str | None:
    return os.environ.get("SLURM_JOB_ID") or None


# --- the running job ------------------------------------------------------------------------


def seconds_left() -> float | None:
    """Seconds until this Slurm job's time limit (squeue's %L), or None outside Slurm."""
    job = current_job_id()
    if not job:
        return None
    out = _query(["squeue", "-h", "-j", job, "-o", "%L"])
    return parse_duration(out) if out is not None else None


def parse_duration(text: str) -> float | None:
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


def parse_memory_mb(text: str) -> int | None:
    """Slurm's memory sizes ('700M', '4G', '1.5T', '2000') in MB."""
    match = re.fullmatch(r"([\d.]+)([KMGTP]?)", text.strip().upper())
    if not match:
        return None
    scale = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024**2, "P": 1024**3}
    return round(float(match.group(1)) * scale[match.group(2)])


def job_allocation() -> dict[str, object] | None:
    """The running job as Slurm knows it: id, name, comment and allocated memory (MB) and CPUs.

    Inside a job step (the executor plugin runs each rule under `srun`) SLURM_JOB_NAME is the
    step's command name and the memory variables are unset, so the job is asked for, from
    `scontrol`; the environment is the fallback where that fails."""
    job = current_job_id()
    if not job:
        return None
    env = os.environ
    info: dict[str, object] = {"job_id": job, "job_name": env.get("SLURM_JOB_NAME")}
    cpus = env.get("SLURM_CPUS_ON_NODE")
    info["cpus"] = int(cpus) if cpus and cpus.isdigit() else None
    if env.get("SLURM_MEM_PER_NODE"):
        info["memory_mb"] = parse_memory_mb(env["SLURM_MEM_PER_NODE"])
    elif env.get("SLURM_MEM_PER_CPU") and info["cpus"]:
        per_cpu = parse_memory_mb(env["SLURM_MEM_PER_CPU"])
        info["memory_mb"] = per_cpu * info["cpus"] if per_cpu else None
    else:
        info["memory_mb"] = None
    info["comment"] = None
    out = _query(["scontrol", "-o", "show", "job", job])
    if out:
        fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
        info["job_name"] = fields.get("JobName", info["job_name"])
        comment = fields.get("Comment")
        info["comment"] = None if comment in (None, "(null)") else comment
        # A running job's TRES are what it was allocated (AllocTRES in newer Slurm versions).
        tres_text = fields.get("AllocTRES") or fields.get("TRES", "")
        tres = dict(t.split("=", 1) for t in tres_text.split(",") if "=" in t)
        if "mem" in tres:
            info["memory_mb"] = parse_memory_mb(tres["mem"])
        if tres.get("cpu", "").isdigit():
            info["cpus"] = int(tres["cpu"])
    return info


# --- other jobs -----------------------------------------------------------------------------


def job_alive(job_id: str) -> bool | None:
    """Whether a Slurm job still runs or waits to run; None where Slurm cannot say."""
    if not shutil.which("squeue"):
        return None
    try:
        out = subprocess.run(
            ["squeue", "-h", "-j", str(job_id), "--states=all", "-o", "%T"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        # Slurm forgot the job (MinJobAge passed): it has ended. Any other error says nothing.
        return False if "Invalid job id" in out.stderr else None
    return out.stdout.strip() in ALIVE_STATES


@dataclass(frozen=True)
class Job:
    job_id: str
    name: str
    state: str
    comment: str


def workflow_jobs(workdir: Path, name_prefix: str | None) -> list[Job]:
    """The calling user's live jobs that the executor plugin submitted from ``workdir``: named
    like the plugin names its jobs (with ``name_prefix``) and started in that directory."""
    pattern = re.compile(
        rf"(?:{re.escape(name_prefix)}_)?{_RUN_UUID}" if name_prefix else _RUN_UUID
    )
    out = _query(["squeue", "-h", "-u", str(os.getuid()), "-o", "%i|%j|%T|%Z|%k", "--states=all"])
    jobs = []
    for line in (out or "").splitlines():
        parts = line.split("|", 4)
        if len(parts) != 5:
            continue
        job_id, name, state, job_dir, comment = parts
        if state not in ALIVE_STATES or not pattern.fullmatch(name):
            continue
        if os.path.realpath(job_dir) == os.path.realpath(workdir):
            jobs.append(Job(job_id, name, state, comment))
    return jobs


EARLIER_JOB_POLICIES = ("cancel", "wait")


def settle_earlier_jobs(
    workdir: Path, name_prefix: str | None, policy: str, poll_seconds: float = 5.0
) -> list[Job]:
    """Before an invocation submits anything: the jobs an earlier invocation of this workflow left
    queued or running (its Snakemake was killed) are cancelled, or waited for, so that no run is
    submitted twice. Returns those jobs; returns once none of them is alive."""
    if policy not in EARLIER_JOB_POLICIES:
        raise ValueError(
            f"unknown policy {policy!r} for earlier jobs; one of {EARLIER_JOB_POLICIES}"
        )
    jobs = workflow_jobs(workdir, name_prefix)
    if not jobs:
        return []
    ids = [j.job_id for j in jobs]
    listing = ", ".join(f"{j.job_id} ({j.comment or j.name}, {j.state.lower()})" for j in jobs)
    if policy == "cancel":
        print(
            f"mlepipe: cancelling {len(jobs)} job(s) of an earlier run: {listing}", file=sys.stderr
        )
        subprocess.run(["scancel", *ids], check=False)
    else:
        print(
            f"mlepipe: waiting for {len(jobs)} job(s) of an earlier run: {listing}", file=sys.stderr
        )
    while any(job_alive(job_id) for job_id in ids):
        time.sleep(poll_seconds)
    return jobs
