"""One agent run, from an empty run directory to `run.json`.

Run directory (`<results>/runs/<agent>/<hardware>/<competition>/<seed>/`):
  home/            what the agent sees besides the data: instructions.md, validate
  submission/      /home/submission inside the sandbox (writable)
  logs/            /home/logs (writable); agent.stdout and agent.stderr are the harness's capture
  code/            /home/code (writable)
  submission.csv   the submission after safe extraction (absent if none or rejected)
  snapshots/       every distinct version of submission.csv during the run, with its elapsed time
                   (snapshots.jsonl; never shown to the agent; see mlepipe.harness.snapshots)
  run.json         written last: timing, exit status, limits, sandbox, Slurm job, submission status

With `sandbox: none` the agent is told the host paths of these folders (and of the public data)
instead of the sandbox's, through the runner's one `AgentView`; its code stays the same.

Whatever the agent does, the harness finishes by writing run.json; only a broken harness fails the
pipeline job, and a cancelled one: SIGTERM or SIGINT (scancel, Ctrl-C) stop the agent, run.json
gets status cancelled, and the command exits 128 + the signal, because a cancelled run is no
result (the next invocation redoes it). Nothing in the run directory is followed outside it
(symlinks are never followed).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from mlepipe.agents import mlebench
from mlepipe.agents.config import AGENT_MOUNT, Agent, load_agents
from mlepipe.agents.envs import built_env
from mlepipe.descriptions import SOURCES, Description, sha256_of
from mlepipe.gateway.harness import model_gateway
from mlepipe.harness import records, slurm
from mlepipe.harness.lock import run_dir_lock
from mlepipe.harness.runner import Limits, Mount, SandboxUnavailable
from mlepipe.harness.runners import get_runner, runner_classes
from mlepipe.harness.snapshots import SNAPSHOTS_DIR, SnapshotLimits, SubmissionWatcher
from mlepipe.harness.submission import DEFAULT_SUBMISSION_CAP_MB, extract_submission
from mlepipe.registry import PACKAGE_DIR, Competition, Registry

DATA_MOUNT = "/home/data"
DESCRIPTION_MOUNT = f"{DATA_MOUNT}/description.md"
SUBMISSION_MOUNT = "/home/submission"
LOGS_MOUNT = "/home/logs"
CODE_MOUNT = "/home/code"
INSTRUCTIONS_MOUNT = "/home/instructions.md"
VALIDATE_MOUNT = "/home/validate"
HOME_DIR = "/home"  # the agent's working directory
MLEPIPE_MOUNT = "/opt/mlepipe"  # the package and competition definitions, read-only

# ------------------------------------------------------------------------------------------------
# The Slurm job's own time limit


def _wall_limit(hardware_seconds: float) -> tuple[float, str]:
    """The agent's wall-clock limit and where it comes from. Under Slurm the agent is stopped
    before the job's own time limit, so that the run is recorded as a timeout (and graded as no
    submission) instead of vanishing with a killed job."""
    left = slurm.seconds_left()
    if left is not None and left - slurm.SLURM_SAFETY_SECONDS < hardware_seconds:
        return max(1.0, left - slurm.SLURM_SAFETY_SECONDS), "slurm-job-time-limit"
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
- {network} Time limit: {time_limit} seconds; after that the run is stopped.
- Resources: {cpus} CPUs, {memory} of memory, {gpus}.
"""

VALIDATE_SCRIPT = """\
#!/bin/sh
# Checks a submission's format against the public sample submission (no private data needed),
# with the pipeline's own interpreter and package, whatever Python environment the agent has.
PYTHONPATH={package} MLEPIPE_COMPETITIONS_DIR={competitions} exec {python} \\
    -m mlepipe validate "${{1:-{submission}/submission.csv}}" {competition} --public-dir {data}
"""


NO_NETWORK = "There is no network access."
GATEWAY_NETWORK = (
    "There is no network access except the model API: an OpenAI-compatible server at "
    "$OPENAI_BASE_URL (Anthropic's API at $ANTHROPIC_BASE_URL), with the key in $OPENAI_API_KEY; "
    "$GATEWAY_MODELS lists the models you may use."
)


def _write_home(
    home: Path,
    competition: Competition,
    hw: dict[str, Any],
    at,
    gateway: bool = False,
    mlebench_layout: bool = False,
) -> None:
    """instructions.md and the validator, naming each path as the agent finds it (``at``); an
    MLE-bench agent gets MLE-bench's instructions.txt and validate_submission.sh instead."""
    home.mkdir(parents=True)
    if mlebench_layout:
        (home / "instructions.txt").write_text(mlebench.INSTRUCTIONS)
        script = home / "validate_submission.sh"
        script.write_text(
            mlebench.validate_script(
                competition.id, data=at(DATA_MOUNT), package=at(MLEPIPE_MOUNT),
                competitions=at(f"{MLEPIPE_MOUNT}/competitions"),
            )
        )  # fmt: skip
        script.chmod(0o755)
        return
    gpus = hw.get("gpus") or 0
    text = INSTRUCTIONS.format(
        data=at(DATA_MOUNT), submission=at(SUBMISSION_MOUNT), code=at(CODE_MOUNT),
        logs=at(LOGS_MOUNT), validate=at(VALIDATE_MOUNT),
        network=GATEWAY_NETWORK if gateway else NO_NETWORK,
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
    container_engine: str | None = None,
    allow_privileged: bool = False,
    grade_file: Path | None = None,
    envs_dir: Path = Path("results/envs"),
    snapshot_limits: SnapshotLimits | None = None,
    description: Description | None = None,
) -> dict[str, Any]:
    """Runs one agent on one competition; returns (and writes) the run record. An agent with
    ``requirements:`` runs with its own environment from ``envs_dir`` (``mlepipe.agents.envs``).
    ``snapshot_limits`` bound the submission's snapshots (defaults of ``SnapshotLimits``; none
    are taken where they are 0). ``description``, where it is not the prepared one
    (``mlepipe.descriptions``), is shown over the public data's description.md.

    ``grade_file``, the grade of an earlier attempt of this run, is removed before the run
    starts: a grade never outlives the run it graded. SIGTERM or SIGINT stop the agent; the run
    is recorded as cancelled and Cancelled is raised once run.json is written."""
    key = f"{agent.name}/{hardware_name}/{competition.id}/{seed}"
    runner = get_runner(
        sandbox, **_runner_options(sandbox, agent, key, container_engine, allow_privileged)
    )
    python_env = built_env(agent, envs_dir)
    run_dir = Path(run_dir)
    shown = description if description is not None and description.overrides else None
    if shown is not None and runner.host_paths:
        raise SandboxUnavailable(
            f"sandbox {sandbox} cannot show the {shown.source} description over the shared "
            "prepared data (without a mount namespace the agent would read the project's own "
            "description.md); use bubblewrap, container or apptainer, or descriptions: own"
        )
    with _signals_cancel(), run_dir_lock(run_dir, _lock_wait_seconds(hw)):
        if grade_file is not None:
            Path(grade_file).unlink(missing_ok=True)
        mounts = _fresh_run_dir(run_dir, agent, competition, data_dir)
        if shown is not None:  # right after the data mount, which it lies over
            mounts.insert(1, Mount(shown.path, DESCRIPTION_MOUNT))
        # Every path the agent is given goes through this view: the sandbox's own paths, or
        # under `sandbox: none` the host paths behind them. /home and /opt/mlepipe are no mounts
        # (bubblewrap builds them from those below); without a sandbox these folders stand in.
        folders = [Mount(run_dir / "home", HOME_DIR), Mount(PACKAGE_DIR.parent, MLEPIPE_MOUNT)]
        view = runner.agent_view(mounts, folders=folders)
        _write_home(
            run_dir / "home", competition, hw, view.path, gateway=bool(agent.spec.get("gateway")),
            mlebench_layout=agent.kind == "mlebench",
        )  # fmt: skip
        if agent.kind == "mlebench":
            # Writable, as MLE-bench's entrypoint makes all of /home: a copy of what the image
            # holds there (the agent folder, which its Dockerfile copies in).
            runner.check()
            runner.export_folder(mlebench.AGENT_DIR, run_dir / "agent")
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
        record["description"] = _description_record(shown, competition, data_dir)
        print(f"run {key}: starting", file=sys.stderr)
        # The agent's one way out to its models, if it has one (README "Running an LLM agent").
        gateway = model_gateway(
            agent.spec.get("gateway"), prices_file, run_dir / "logs", on_host=runner.host_paths
        )
        agent_argv = agent.argv()
        if agent.kind == "mlebench":
            agent_argv, mlebench_env = _mlebench_start(agent, competition, gateway)
            env.update(mlebench_env)
        # The launcher runs with the harness's interpreter, whatever the agent's environment.
        launcher = [sys.executable, "-I", f"{MLEPIPE_MOUNT}/mlepipe/gateway/forward.py"]
        started = time.monotonic()
        cancelled = None
        limits_kept = snapshot_limits or SnapshotLimits()
        watcher = SubmissionWatcher(
            run_dir / "submission", run_dir / SNAPSHOTS_DIR,
            SnapshotLimits(limits_kept.max_versions, limits_kept.max_mb, submission_cap_mb,
                           limits_kept.interval),
        ) if limits_kept.enabled else None  # fmt: skip
        try:
            try:
                with gateway, watcher or nullcontext():
                    run_mounts = [*mounts, *gateway.mounts]
                    argv = gateway.command(agent_argv, launcher)
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
            found, reason = extract_submission(
                run_dir / "submission", run_dir / "submission.csv", submission_cap_mb * 1024 * 1024
            )
        except Cancelled as exc:
            # The runner has killed the agent; what it had written is not graded.
            cancelled = exc
            if "exit_code" not in record:
                record.update(records.cancelled_fields(sandbox, time.monotonic() - started))
            record["cancelled_by"] = exc.signal_name
            found, reason = False, f"the run was cancelled ({exc.signal_name})"
        record["usage"] = gateway.usage
        record["snapshots"] = watcher.summary() if watcher else None
        record["end"] = records.now()
        record["submission"] = records.submission_fields(found, reason)
        record["status"] = records.run_status(record)
        records.write_run_record(run_dir, record)
        print(f"run {key}: {record['status']}", file=sys.stderr)
        if cancelled is not None:
            raise cancelled
        return record


def _description_record(
    shown: Description | None, competition: Competition, data_dir: Path
) -> dict[str, str | None]:
    """The source and SHA-256 of the text the agent finds as description.md."""
    if shown is not None:
        return shown.record()
    prepared = competition.public_dir(data_dir) / "description.md"
    return {"source": "own", "sha256": sha256_of(prepared) if prepared.is_file() else None}


def _runner_options(
    sandbox: str, agent: Agent, key: str, engine: str | None, allow_privileged: bool
) -> dict[str, Any]:
    """What the container runners are told of the agent (nothing for the other runners)."""
    if agent.kind == "mlebench" and sandbox != "container":
        raise SandboxUnavailable(
            f"agent {agent.name} is an MLE-bench agent (kind: mlebench), which runs in the "
            f"container of its image only: set `sandbox: container` (not {sandbox!r})"
        )
    if sandbox == "apptainer":
        return {"image": agent.sif}
    if sandbox != "container":
        return {}
    if agent.privileged and not allow_privileged:
        where = (
            f"`privileged: true` in {agent.mlebench.folder / 'config.yaml'}"
            if agent.kind == "mlebench" and agent.mlebench.privileged
            else "`privileged:` in the agent's definition"
        )
        raise SandboxUnavailable(
            f"agent {agent.name} asks for a privileged container; allow it explicitly with "
            f"`allow_privileged: true` in the experiment, or drop {where}"
        )
    return {
        "engine": engine, "image": agent.image, "run_label": key,
        "privileged": agent.privileged,
        # An MLE-bench image's own tools come first on PATH (its start.sh activates conda).
        "image_path": agent.kind == "mlebench",
    }  # fmt: skip


class Cancelled(BaseException):
    """SIGTERM or SIGINT reached the harness (scancel, Slurm's time limit, Ctrl-C). A
    BaseException, so that no `except Exception` on the way records it as a harness error."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"cancelled by {self.signal_name}")


CANCEL_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def _signals_cancel() -> Iterator[None]:
    """SIGTERM and SIGINT raise Cancelled while the block runs. The first one only: the record
    is then written without a second signal cutting it short (Slurm's SIGKILL follows anyway
    after KillWait)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def cancel(signum: int, frame: object) -> None:
        for sig in CANCEL_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Cancelled(signum)

    previous = {sig: signal.signal(sig, cancel) for sig in CANCEL_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# A holder of the run's lock is bounded by its time limit, plus set-up and extraction.
LOCK_WAIT_MARGIN_SECONDS = 600


def _lock_wait_seconds(hw: dict[str, Any]) -> float:
    """How long to wait for another harness that holds this run (an orphan of a killed pipeline
    may still be writing it): as long as its time limit allows it to run."""
    return float(hw["time_limit_seconds"]) + LOCK_WAIT_MARGIN_SECONDS


def _fresh_run_dir(
    run_dir: Path, agent: Agent, competition: Competition, data_dir: Path
) -> list[Mount]:
    """An empty run directory (a previous, unfinished attempt is removed) and the mounts that
    show it, the public data and the package to the agent."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for sub in ("submission", "logs", "code"):
        (run_dir / sub).mkdir(parents=True)
    if agent.kind == "mlebench":
        return [
            Mount(competition.public_dir(data_dir).resolve(), DATA_MOUNT),
            Mount(run_dir / "home" / "instructions.txt", mlebench.INSTRUCTIONS_PATH),
            Mount(run_dir / "home" / "validate_submission.sh", mlebench.VALIDATE_PATH),
            Mount(run_dir / "submission", SUBMISSION_MOUNT, writable=True),
            Mount(run_dir / "logs", LOGS_MOUNT, writable=True),
            Mount(run_dir / "code", CODE_MOUNT, writable=True),
            Mount(run_dir / "agent", mlebench.AGENT_DIR, writable=True),
            Mount(PACKAGE_DIR, f"{MLEPIPE_MOUNT}/mlepipe"),
            Mount(competition.folder.parent, f"{MLEPIPE_MOUNT}/competitions"),
        ]
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
    the host variables passed through. An MLE-bench agent gets what MLE-bench gives it
    (``_mlebench_start``) and nothing of the pipeline's own."""
    if agent.kind == "mlebench":  # the gateway's key is replaced by its token, not passed
        key_env = (agent.spec.get("gateway") or {}).get("key_env")
        return {}, [n for n in agent.mlebench.secrets if n in os.environ and n != key_env]
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


def _mlebench_start(agent: Agent, competition: Competition, gateway) -> tuple[list, dict]:
    """An MLE-bench agent's start command and environment, with its secrets resolved from the
    host. The API key the model gateway holds is never among them: its per-run token stands
    in for it."""
    config = agent.mlebench
    key_env = (agent.spec.get("gateway") or {}).get("key_env")
    token = getattr(gateway, "token", None)
    substitutes = {key_env: token} if key_env and token else {}
    kwargs = mlebench.resolve(config.kwargs, os.environ, substitutes)
    env_vars = mlebench.resolve(config.env_vars, os.environ, substitutes)
    argv = mlebench.start_command(kwargs, config.kwargs_type)
    return argv, mlebench.container_env(competition.id, env_vars)


# ------------------------------------------------------------------------------------------------
# CLI (used by the Snakemake rules)


def _hardware(path: Path, name: str) -> dict[str, Any]:
    from mlepipe.hardware import load_hardware

    return load_hardware(path)[name].as_run_limits()


def _description(args, competition: Competition) -> Description:
    from mlepipe.descriptions import experiment_descriptions

    found = experiment_descriptions([competition], args.description_source, args.mlebench_checkout)
    return found[competition.id]


def cmd_run_agent(args) -> int:
    agent = load_agents(Path(args.agents_file))[args.agent]
    competition = Registry().get(args.competition)
    hw = _hardware(Path(args.hardware_file), args.hardware)
    from mlepipe.harness.gpus import assigned_gpus

    # A missing sandbox or GPU is a setup error: the CLI prints it in one line (exit 2).
    try:
        with assigned_gpus(int(hw.get("gpus") or 0)) as gpu_ids:
            run_agent(
                agent=agent, competition=competition, hardware_name=args.hardware, hw=hw,
                seed=args.seed, data_dir=Path(args.data_dir), run_dir=Path(args.run_dir),
                sandbox=args.sandbox, submission_cap_mb=args.submission_cap_mb, gpu_ids=gpu_ids,
                prices_file=Path(args.prices_file), container_engine=args.container_engine,
                allow_privileged=args.allow_privileged, envs_dir=Path(args.envs_dir),
                grade_file=Path(args.grade_file) if args.grade_file else None,
                snapshot_limits=SnapshotLimits(args.snapshot_max_versions, args.snapshot_max_mb),
                description=_description(args, competition),
            )  # fmt: skip
    except Cancelled as exc:
        # Not a finished run: the pipeline job fails, so that a later invocation redoes it.
        print(f"mlepipe run-agent: {exc}", file=sys.stderr)
        return 128 + exc.signum
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
    sp.add_argument("--container-engine", help="Docker Engine API of runner container")
    sp.add_argument("--allow-privileged", action="store_true")
    sp.add_argument("--grade-file", help="the run's grade record, removed as the run starts")
    sp.add_argument("--envs-dir", default="results/envs", help="agents' own environments")
    sp.add_argument(
        "--snapshot-max-versions", type=int, default=SnapshotLimits.max_versions,
        help="most versions of the submission kept during the run (0: no snapshots)",
    )  # fmt: skip
    sp.add_argument(
        "--snapshot-max-mb", type=int, default=SnapshotLimits.max_mb,
        help="most MB of submission snapshots kept per run (0: no snapshots)",
    )  # fmt: skip
    sp.add_argument(
        "--description-source", default="own", choices=SOURCES,
        help="the task text shown as description.md (see mlepipe.descriptions)",
    )  # fmt: skip
    sp.add_argument("--mlebench-checkout", help="MLE-bench checkout, for the mlebench* texts")
    sp.set_defaults(func=cmd_run_agent)
