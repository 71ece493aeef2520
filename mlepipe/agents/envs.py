"""Agents' own Python environments.

An agent that declares ``requirements:`` (and perhaps ``requirements_no_deps:``) runs with a
venv of its own instead of the pipeline's environment, so that its pins (aideml's pandas 2.1.4,
say) never touch the pipeline's. The environment is named by a digest of the requirements and
of the Python version that builds it (the interpreter running the pipeline), lives in
``<envs_dir>/<digest>/`` and is built once, by ``mlepipe build-env`` (the pipeline's
``agent_env`` rule), for every agent with the same digest.

The build is atomic: ``python -m venv`` and pip work in a temporary folder beside the final one,
which is renamed into place with its ``.complete`` record (digest, requirements, Python, what
pip installed) once everything succeeded; a failed build leaves nothing behind and is reported in
one line. The pipeline's package is never installed into it, and the harness gives an agent with
its own environment no PYTHONPATH to the package either.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mlepipe.agents.config import Agent

COMPLETE = ".complete"


class EnvironmentBuildError(RuntimeError):
    """An agent's environment could not be built (pip failed): one line saying why."""


def env_spec(agent: Agent) -> dict[str, Any]:
    """What the environment is made of: its requirements and the Python that builds it."""
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "requirements": agent.requirements,
        "requirements_no_deps": agent.requirements_no_deps,
    }


def env_digest(agent: Agent) -> str:
    text = json.dumps(env_spec(agent), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def env_dir(agent: Agent, envs_dir: Path) -> Path | None:
    """The folder of the agent's own environment (None: it uses the pipeline's)."""
    return Path(envs_dir).resolve() / env_digest(agent) if agent.has_own_env else None


def built_env(agent: Agent, envs_dir: Path) -> Path | None:
    """The agent's environment, which must have been built (None: it uses the pipeline's)."""
    folder = env_dir(agent, envs_dir)
    if folder is not None and not (folder / COMPLETE).is_file():
        raise EnvironmentBuildError(
            f"the Python environment of agent '{agent.name}' is not built at {folder}: run "
            f"`mlepipe build-env --agent {agent.name} --envs-dir {envs_dir}` (the pipeline "
            "builds it by itself)"
        )
    return folder


def build_env(agent: Agent, envs_dir: Path) -> Path:
    """Builds the agent's environment unless it exists; returns its folder."""
    final = env_dir(agent, envs_dir)
    if final is None:
        raise EnvironmentBuildError(f"agent '{agent.name}' declares no requirements")
    if (final / COMPLETE).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        _install(agent, building)
        record = {**env_spec(agent), "digest": final.name, "installed": _freeze(building)}
        _relocate(building, final)
        (building / COMPLETE).write_text(json.dumps(record, indent=1) + "\n")
        if final.exists():  # an empty folder (Snakemake makes the output's) or a broken one
            shutil.rmtree(final)
        os.rename(building, final)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return final


def _install(agent: Agent, folder: Path) -> None:
    what = f"building the Python environment of agent '{agent.name}'"
    _step([sys.executable, "-m", "venv", str(folder)], what, "python -m venv")
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--no-input"]
    if agent.requirements:
        requirements = folder / "requirements.txt"
        requirements.write_text("".join(f"{line}\n" for line in agent.requirements))
        _step([*pip, "-r", str(requirements)], what, "pip install -r requirements")
    if agent.requirements_no_deps:
        _step([*pip, "--no-deps", *agent.requirements_no_deps], what, "pip install --no-deps")


def _step(argv: list[str], what: str, name: str) -> None:
    """Runs one build step, its output going to ours (the build's log); a failure raises one
    line with the last error the step printed."""
    # The pipeline's own PYTHONPATH (its package) has no business in the agent's environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    print(f"$ {' '.join(argv)}", flush=True)
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env)  # fmt: skip
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    if done.returncode != 0:
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR:")]
        last = (errors or lines or ["no output"])[-1]
        raise EnvironmentBuildError(f"{what} failed: {name} exited {done.returncode}: {last}")


def _freeze(folder: Path) -> list[str]:
    done = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "freeze", "--all"],
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def _relocate(building: Path, final: Path) -> None:
    """Console scripts and activation files name the environment's folder: make them name the
    final one (the build's folder is renamed to it)."""
    old, new = str(building).encode(), str(final).encode()
    for path in [*sorted((building / "bin").iterdir()), building / "pyvenv.cfg"]:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        data = path.read_bytes()
        if old in data:
            path.write_bytes(data.replace(old, new))
