"""The run record, `run.json`: what a run was given, how it ended, and its status.

Fields, in the order written: run_id (new for every attempt), agent, agent_version,
competition_id, hardware, hardware_spec, seed, host, start, sandbox, env_passed_through (names
only, never values), gpu_ids, wall_limit_seconds, wall_limit_source, slurm, python_env (the
agent's own environment, or null: the pipeline's); then the sandbox's result (runner,
exit_code, signal, timed_out, oom_killed, wall_seconds, limits_enforced, sandbox_notes,
harness_error, disk_exceeded, disk_peak_mb, output_dropped_bytes, runner_identity: e.g. the
container's image id and digests, metering: what the run used); then usage (the model gateway's
metering, null without a gateway: mlepipe.gateway), snapshots (what the submission's snapshots
kept and skipped, null where they are off: mlepipe.harness.snapshots), end, submission (found,
accepted, rejected_reason), status and, for a cancelled run, cancelled_by (the signal's name).
The grader and the reports read these names.

`slurm` holds the job's SLURM_* variables as the harness saw them and what Slurm itself says of
the job (job_name, job_comment, memory_mb, cpus): inside a job step SLURM_JOB_NAME is the step's
command and the memory variables are unset.

Statuses: ok, no-submission, crashed, timeout, oom, disk-quota, gateway-error, harness-error,
and cancelled (the harness was stopped by SIGTERM or SIGINT: scancel, Slurm's time limit,
Ctrl-C). Every status but ok is a failed run for grading and the reports.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlepipe.harness.runner import SandboxResult

RUN_RECORD = "run.json"
# MLEPIPE_HOSTNAME overrides the host name recorded in run.json and in run directory locks (where
# containers on different machines share one host name, say).
HOSTNAME_VARIABLE = "MLEPIPE_HOSTNAME"
SLURM_VARIABLES = (
    "SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_NODELIST", "SLURM_JOB_PARTITION",
    "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU",
    "SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_CLUSTER_NAME",
)  # fmt: skip


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def host_name() -> str:
    return os.environ.get(HOSTNAME_VARIABLE) or socket.gethostname()


def slurm_fields() -> dict[str, Any] | None:
    """The Slurm job running this harness: its variables and Slurm's own record (None outside)."""
    from mlepipe.harness import slurm

    variables = {k: os.environ[k] for k in SLURM_VARIABLES if k in os.environ}
    job = slurm.job_allocation()
    if job:
        variables.update(
            job_name=job["job_name"], job_comment=job["comment"],
            memory_mb=job["memory_mb"], cpus=job["cpus"],
        )  # fmt: skip
    return variables or None


def started_record(
    *,
    agent: str,
    agent_version: str,
    competition_id: str,
    hardware: str,
    hardware_spec: dict[str, Any],
    seed: int,
    sandbox: str,
    env_passed_through: list[str],
    gpu_ids: list[str],
    wall_limit_seconds: float,
    wall_limit_source: str,
) -> dict[str, Any]:
    """The fields known when the run starts (the start time is now)."""
    return {
        "run_id": uuid.uuid4().hex,
        "agent": agent, "agent_version": agent_version, "competition_id": competition_id,
        "hardware": hardware, "hardware_spec": hardware_spec, "seed": seed,
        "host": host_name(), "start": now(), "sandbox": sandbox,
        "env_passed_through": env_passed_through, "gpu_ids": gpu_ids,
        "wall_limit_seconds": wall_limit_seconds, "wall_limit_source": wall_limit_source,
        "slurm": slurm_fields(),
    }  # fmt: skip


def result_fields(result: SandboxResult) -> dict[str, Any]:
    """How the sandboxed process ended."""
    return {
        "runner": result.runner, "exit_code": result.exit_code, "signal": result.signal,
        "timed_out": result.timed_out, "oom_killed": result.oom_killed,
        "wall_seconds": round(result.wall_seconds, 3), "limits_enforced": result.enforced,
        "sandbox_notes": result.notes, "harness_error": None,
        "disk_exceeded": result.disk_exceeded, "disk_peak_mb": result.disk_peak_mb,
        "output_dropped_bytes": result.output_dropped, "runner_identity": result.identity,
        "metering": result.metering,
    }  # fmt: skip


def harness_error_fields(runner: str, exc: Exception) -> dict[str, Any]:
    """The same fields for a run that could not start."""
    return {
        "runner": runner, "exit_code": None, "signal": None, "timed_out": False,
        "oom_killed": False, "wall_seconds": 0.0, "limits_enforced": {}, "sandbox_notes": [],
        "harness_error": f"{type(exc).__name__}: {exc}",
        "disk_exceeded": None, "disk_peak_mb": None, "output_dropped_bytes": {},
        "runner_identity": {}, "metering": {},
    }  # fmt: skip


def cancelled_fields(runner: str, wall_seconds: float) -> dict[str, Any]:
    """The same fields for a run stopped by a signal to the harness before the agent ended."""
    return {
        "runner": runner, "exit_code": None, "signal": None, "timed_out": False,
        "oom_killed": False, "wall_seconds": round(wall_seconds, 3), "limits_enforced": {},
        "sandbox_notes": [], "harness_error": None,
    }  # fmt: skip


def submission_fields(found: bool, rejected_reason: str | None) -> dict[str, Any]:
    return {"found": found, "accepted": found and rejected_reason is None,
            "rejected_reason": rejected_reason}  # fmt: skip


def run_status(r: dict[str, Any]) -> str:
    if r.get("cancelled_by"):
        return "cancelled"
    if r.get("harness_error"):
        return "harness-error"
    if r.get("disk_exceeded"):
        return "disk-quota"
    if (r.get("usage") or {}).get("gateway_error"):
        return "gateway-error"
    if r["timed_out"]:
        return "timeout"
    if r["oom_killed"]:
        return "oom"
    if r["exit_code"] != 0:
        return "crashed"
    return "ok" if r["submission"]["accepted"] else "no-submission"


def write_run_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Writes run.json whole or not at all: it is the run's output, written last."""
    tmp = run_dir / f"{RUN_RECORD}.part"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(run_dir / RUN_RECORD)
