"""One agent run, from an empty run directory to `run.json`.

Run directory (`<results>/runs/<agent>/<hardware>/<competition>/<seed>/`):
  home/            what the agent sees besides the data: instructions.md, validate
  submission/      /home/submission inside the sandbox (writable)
  logs/            /home/logs (writable); agent.stdout and agent.stderr are the harness's capture
  code/            /home/code (writable)
  submission.csv   the submission after safe extraction (absent if none or rejected)
  run.json         written last: timing, exit status, limits, sandbox, Slurm job, submission status

With `sandbox: none` the agent is told the host paths of these folders (and of the public data)
instead of the sandbox's, through the runner's one `AgentView`; its code stays the same.

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
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlepipe.agents.config import AGENT_MOUNT, Agent, load_agents
from mlepipe.agents.envs import built_env
from mlepipe.gateway.harness import model_gateway
from mlepipe.harness import records
from mlepipe.harness.runner import Limits, Mount, SandboxUnavailable
from mlepipe.harness.runners import get_runner, runner_classes
from mlepipe.harness.submission import DEFAULT_SUBMISSION_CAP_MB, extract_submission
from mlepipe.registry import PACKAGE_DIR, Competition, Registry

DATA_MOUNT = "/home/data"
SUBMISSION_MOUNT = "/home/submission"
LOGS_MOUNT = "/home/logs"
CODE_MOUNT = "/home/code"
INSTRUCTIONS_MOUNT = "/home/instructions.md"
VALIDATE_MOUNT = "/home/validate"
HOME_DIR = "/home"  # the agent's working directory
MLEPIPE_MOUNT = "/opt/mlepipe"  # the package and competition definitions, read-only

# ------------------------------------------------------------------------------------------------
# The Slurm job's own time limit


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


def _wall_limit(hardware_seconds: float) -> tuple[float, str]:
    """The agent's wall-clock limit and where it comes from. Under Slurm the agent is stopped
    before the job's own time limit, so that the run is recorded as a timeout (and graded as no
    submission) instead of vanishing with a killed job."""
    left = slurm_seconds_left()
    if left is not None and left - SLURM_SAFETY_SECONDS < hardware_seconds:
        return max(1.0, left - SLURM_SAFETY_SECONDS), "slurm-job-time-limit"
    return hardware_seconds, "hardware"


# ------------------------------------------------------------------------------------------------
# The run directory and the run


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
# Checks a submission's format against the public sample submission (no private data needed),
# with the pipeline's own interpreter and package, whatever Python environment the agent has.
PYTHONPATH={package} MLEPIPE_COMPETITIONS_DIR={competitions} exec {python} \\
    -m mlepipe validate "${{1:-{submission}/submission.csv}}" {competition} --public-dir {data}
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
            package=shlex.quote(at(MLEPIPE_MOUNT)),
            competitions=shlex.quote(at(f"{MLEPIPE_MOUNT}/competitions")),
            python=shlex.quote(sys.executable),
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
    prices_file: Path | None = None,
    envs_dir: Path = Path("results/envs"),
) -> dict[str, Any]:
    """Runs one agent on one competition; returns (and writes) the run record. An agent with
    ``requirements:`` runs with its own environment from ``envs_dir`` (``mlepipe.agents.envs``)."""
    runner = get_runner(sandbox)
    python_env = built_env(agent, envs_dir)
    run_dir = Path(run_dir)
    with _exclusive(run_dir):
        mounts = _fresh_run_dir(run_dir, agent, competition, data_dir)
        # Every path the agent is given goes through this view: the sandbox's own paths, or
        # under `sandbox: none` the host paths behind them. /home and /opt/mlepipe are no mounts
        # (bubblewrap builds them from those below); without a sandbox these folders stand in.
        folders = [Mount(run_dir / "home", HOME_DIR), Mount(PACKAGE_DIR.parent, MLEPIPE_MOUNT)]
        view = runner.agent_view(mounts, folders=folders)
        _write_home(run_dir / "home", competition, hw, view.path)
        env, passed = _agent_env(agent, competition, hw, seed, view.path)

        wall, limit_source = _wall_limit(float(hw["time_limit_seconds"]))
        limits = Limits(
            wall_seconds=wall,
            memory_mb=hw.get("memory_mb"),
            cpus=hw.get("cpus"),
            pids=hw.get("pids", 4096),
            gpus=tuple(gpu_ids),
            disk_mb=hw.get("disk_mb"),
            output_mb=hw.get("output_mb"),
        )
        record = records.started_record(
            agent=agent.name, agent_version=agent.version(), competition_id=competition.id,
            hardware=hardware_name, hardware_spec=hw, seed=seed, sandbox=sandbox,
            env_passed_through=passed, gpu_ids=list(gpu_ids),
            wall_limit_seconds=wall, wall_limit_source=limit_source,
        )  # fmt: skip
        record["python_env"] = str(python_env) if python_env else None
        key = f"{agent.name}/{hardware_name}/{competition.id}/{seed}"
        print(f"run {key}: starting", file=sys.stderr)
        # The agent's one way out to its models, if it has one (README "Running an LLM agent").
        gateway = model_gateway(
            agent.spec.get("gateway"), prices_file, run_dir / "logs", on_host=runner.host_paths
        )
        # The launcher runs with the harness's interpreter, whatever the agent's environment.
        launcher = [sys.executable, "-I", f"{MLEPIPE_MOUNT}/mlepipe/gateway/forward.py"]
        try:
            with gateway:
                run_mounts = [*mounts, *gateway.mounts]
                argv = gateway.command(agent.argv(), launcher)
                result = runner.run(
                    runner.agent_view(run_mounts, folders).argv(argv),
                    mounts=run_mounts, env={**env, **gateway.env}, limits=limits,
                    workdir=view.workdir(HOME_DIR), stdout=run_dir / "logs" / "agent.stdout",
                    stderr=run_dir / "logs" / "agent.stderr", python_env=python_env,
                    stop=gateway.stop,
                )  # fmt: skip
            record.update(records.result_fields(result))
        except SandboxUnavailable:
            raise
        except Exception as exc:  # a run that cannot start is recorded, not fatal for the rest
            record.update(records.harness_error_fields(sandbox, exc))
        record["usage"] = gateway.usage
        record["end"] = records.now()
        found, reason = extract_submission(
            run_dir / "submission", run_dir / "submission.csv", submission_cap_mb * 1024 * 1024
        )
        record["submission"] = records.submission_fields(found, reason)
        record["status"] = records.run_status(record)
        records.write_run_record(run_dir, record)
        print(f"run {key}: {record['status']}", file=sys.stderr)
        return record


@contextmanager
def _exclusive(run_dir: Path) -> Iterator[None]:
    """Holds the run's lock. A harness orphaned by a killed pipeline may still be writing this
    run: wait for it to end (it is bounded by the time limit) before starting again."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(run_dir.parent / f".{run_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _fresh_run_dir(
    run_dir: Path, agent: Agent, competition: Competition, data_dir: Path
) -> list[Mount]:
    """An empty run directory (a previous, unfinished attempt is removed) and the mounts that
    show it, the public data and the package to the agent."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for sub in ("submission", "logs", "code"):
        (run_dir / sub).mkdir(parents=True)
    mounts = [
        Mount(competition.public_dir(data_dir).resolve(), DATA_MOUNT),
        Mount(run_dir / "home" / "instructions.md", INSTRUCTIONS_MOUNT),
        Mount(run_dir / "home" / "validate", VALIDATE_MOUNT),
        Mount(run_dir / "submission", SUBMISSION_MOUNT, writable=True),
        Mount(run_dir / "logs", LOGS_MOUNT, writable=True),
        Mount(run_dir / "code", CODE_MOUNT, writable=True),
        Mount(PACKAGE_DIR, f"{MLEPIPE_MOUNT}/mlepipe"),
        Mount(competition.folder.parent, f"{MLEPIPE_MOUNT}/competitions"),
    ]
    if agent.code_dir:
        mounts.append(Mount(agent.code_dir, AGENT_MOUNT))
    return mounts


def _agent_env(
    agent: Agent, competition: Competition, hw: dict[str, Any], seed: int, at: Callable[[str], str]
) -> tuple[dict[str, str], list[str]]:
    """The agent's environment (paths as the agent finds them, through ``at``) and the names of
    the host variables passed through."""
    env = {
        "DATA_DIR": at(DATA_MOUNT), "SUBMISSION_DIR": at(SUBMISSION_MOUNT),
        "LOGS_DIR": at(LOGS_MOUNT), "CODE_DIR": at(CODE_MOUNT),
        "INSTRUCTIONS": at(INSTRUCTIONS_MOUNT), "VALIDATE": at(VALIDATE_MOUNT),
        "COMPETITION_ID": competition.id, "SEED": str(seed),
        "TIME_LIMIT_SECONDS": str(int(hw["time_limit_seconds"])),
        "PYTHONHASHSEED": str(seed), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    if not agent.has_own_env:  # the pipeline's environment, with its package (builtin agents)
        env["PYTHONPATH"] = at(MLEPIPE_MOUNT)
        env["MLEPIPE_COMPETITIONS_DIR"] = at(f"{MLEPIPE_MOUNT}/competitions")
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
    return env, passed


# ------------------------------------------------------------------------------------------------
# CLI (used by the Snakemake rules)


def _hardware(path: Path, name: str) -> dict[str, Any]:
    from mlepipe.hardware import load_hardware

    return load_hardware(path)[name].as_run_limits()


def cmd_run_agent(args) -> int:
    agent = load_agents(Path(args.agents_file))[args.agent]
    competition = Registry().get(args.competition)
    hw = _hardware(Path(args.hardware_file), args.hardware)
    from mlepipe.harness.gpus import assigned_gpus

    # A missing sandbox or GPU is a setup error: the CLI prints it in one line (exit 2).
    with assigned_gpus(int(hw.get("gpus") or 0)) as gpu_ids:
        run_agent(
            agent=agent, competition=competition, hardware_name=args.hardware, hw=hw,
            seed=args.seed, data_dir=Path(args.data_dir), run_dir=Path(args.run_dir),
            sandbox=args.sandbox, submission_cap_mb=args.submission_cap_mb, gpu_ids=gpu_ids,
            prices_file=Path(args.prices_file), envs_dir=Path(args.envs_dir),
        )  # fmt: skip
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
    sp.add_argument("--sandbox", default="bubblewrap", choices=list(runner_classes()))
    sp.add_argument("--submission-cap-mb", type=int, default=DEFAULT_SUBMISSION_CAP_MB)
    sp.add_argument("--prices-file", default="config/prices.yaml")
    sp.add_argument("--envs-dir", default="results/envs", help="agents' own environments")
    sp.set_defaults(func=cmd_run_agent)
