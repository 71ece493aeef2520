"""MLE-bench's agents as they are (``kind: mlebench``): an agent folder with ``config.yaml``,
``Dockerfile`` and ``start.sh``, run in the container of its own image with the paths,
environment and start command MLE-bench gives it.

What carries over from MLE-bench (facts of its ``agents/registry.py``, ``agents/run.py`` and
``environment/``):

- ``config.yaml`` maps config ids to ``start`` and ``dockerfile`` (paths relative to the folder
  that holds the agent folders), ``kwargs`` with ``kwargs_type``, ``env_vars`` and
  ``privileged``. A value that reads ``${{ secrets.NAME }}`` (in ``kwargs`` or ``env_vars``) is
  the host variable NAME, which must be set.
- The image is built from the agent folder with the build arguments SUBMISSION_DIR, LOGS_DIR,
  CODE_DIR and AGENT_DIR (/home/submission, /home/logs, /home/code, /home/agent); its
  Dockerfile copies the folder to AGENT_DIR.
- The container's environment is COMPETITION_ID plus ``env_vars``; the agent is started as
  ``bash /home/agent/start.sh`` followed by ``--key value`` per kwarg (``kwargs_type:
  argparse``) or ``key=value`` (``omegaconf``); with any other type the kwargs are not passed.
- It finds the public data at /home/data (with description.md), the instructions at
  /home/instructions.txt and the submission checker at /home/validate_submission.sh.

Read by the pipeline and the run harness, never by an agent.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlepipe.schemas import ConfigError

# MLE-bench's agents/.shared_env: build arguments of every agent image, and where its
# Dockerfiles put things.
SHARED_ENV = {
    "SUBMISSION_DIR": "/home/submission",
    "LOGS_DIR": "/home/logs",
    "CODE_DIR": "/home/code",
    "AGENT_DIR": "/home/agent",
}
AGENT_DIR = SHARED_ENV["AGENT_DIR"]
INSTRUCTIONS_PATH = "/home/instructions.txt"
VALIDATE_PATH = "/home/validate_submission.sh"
KWARGS_TYPES = ("argparse", "omegaconf")
_SECRET = re.compile(r"\$\{\{\s*secrets\.(\w+)\s*\}\}")


@dataclass(frozen=True)
class MlebenchConfig:
    """One config id of an MLE-bench agent folder, as its ``config.yaml`` states it. Values
    that name secrets are kept as written; ``resolve`` gives their values at run time."""

    id: str
    folder: Path
    start: Path
    dockerfile: Path
    kwargs: dict[str, Any]
    kwargs_type: str | None
    env_vars: dict[str, Any]
    privileged: bool

    @property
    def secrets(self) -> list[str]:
        """The host variables the config takes values from (names only)."""
        values = [*self.kwargs.values(), *self.env_vars.values()]
        return sorted({name for v in values if (name := secret_name(v))})


def load_config(folder: Path, config_id: str | None = None) -> MlebenchConfig:
    """Config ``config_id`` (default: the folder's name) of the agent folder ``folder``; a
    ConfigError of one line, naming the file, where the folder or the id is wrong."""
    folder = Path(folder).resolve()
    path = folder / "config.yaml"
    config_id = config_id or folder.name
    if not path.is_file():
        raise ConfigError(f"MLE-bench agent folder {folder} has no config.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    entry = data.get(config_id) if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        ids = ", ".join(k for k, v in data.items() if isinstance(v, dict) and "start" in v)
        raise ConfigError(f"{path}: no agent config {config_id!r} (it has: {ids or 'none'})")

    def problem(text: str) -> ConfigError:
        return ConfigError(f"{path}: agent config {config_id!r}: {text}")

    missing = [key for key in ("start", "dockerfile") if key not in entry]
    if missing:
        raise problem(f"missing key {', '.join(missing)}")
    # As in MLE-bench, both name files relative to the folder that holds the agent folders.
    start, dockerfile = (folder.parent / str(entry[k]) for k in ("start", "dockerfile"))
    for key, file in (("start", start), ("dockerfile", dockerfile)):
        if not file.is_file():
            raise problem(f"{key} {entry[key]!r} is no file ({file})")
    if dockerfile.resolve().parent != folder:
        raise problem(f"dockerfile {entry['dockerfile']!r} must lie in the agent folder {folder}")
    kwargs, env_vars = entry.get("kwargs") or {}, entry.get("env_vars") or {}
    kwargs_type, privileged = entry.get("kwargs_type"), entry.get("privileged", False)
    if not isinstance(kwargs, dict) or not isinstance(env_vars, dict):
        raise problem("kwargs and env_vars must be mappings")
    if kwargs and kwargs_type is None:
        raise problem("kwargs are given without kwargs_type (argparse or omegaconf)")
    if kwargs_type is not None and not isinstance(kwargs_type, str):
        raise problem("kwargs_type must be a string")
    if not isinstance(privileged, bool):
        raise problem("privileged must be true or false")
    return MlebenchConfig(
        id=config_id, folder=folder, start=start, dockerfile=dockerfile, kwargs=dict(kwargs),
        kwargs_type=kwargs_type, env_vars=dict(env_vars), privileged=privileged,
    )  # fmt: skip


def secret_name(value: Any) -> str | None:
    """NAME where ``value`` starts with ``${{ secrets.NAME }}`` (MLE-bench then takes the whole
    value from the host variable NAME)."""
    if not isinstance(value, str):
        return None
    match = _SECRET.match(value)
    return match.group(1) if match else None


def resolve(
    values: Mapping[str, Any], environ: Mapping[str, str], substitutes: Mapping[str, str] = {}
) -> dict[str, Any]:
    """``values`` with each secret replaced by the host variable it names, or by
    ``substitutes[NAME]`` (the model gateway's per-run token stands in for the API key it holds
    on the host side). An unset variable is a ConfigError naming it, never its value."""
    resolved = {}
    for key, value in values.items():
        name = secret_name(value)
        if name is None:
            resolved[key] = value
        elif name in substitutes:
            resolved[key] = substitutes[name]
        elif environ.get(name) is None:
            raise ConfigError(
                f"{key} takes its value from the host variable {name} "
                f"(`${{{{ secrets.{name} }}}}`), which is not set: export it before running"
            )
        else:
            resolved[key] = environ[name]
    return resolved


def start_command(kwargs: Mapping[str, Any], kwargs_type: str | None) -> list[str]:
    """How MLE-bench starts an agent: bash on its start.sh, then the kwargs."""
    argv = ["bash", f"{AGENT_DIR}/start.sh"]
    if kwargs_type == "argparse":
        for key, value in kwargs.items():
            argv += [f"--{key}", str(value)]
    elif kwargs_type == "omegaconf":
        argv += [f"{key}={value}" for key, value in kwargs.items()]
    return argv


def container_env(competition_id: str, env_vars: Mapping[str, Any]) -> dict[str, str]:
    """The variables MLE-bench sets on the container: COMPETITION_ID, then ``env_vars``."""
    env = {"COMPETITION_ID": competition_id}
    env.update({k: str(v) for k, v in env_vars.items() if v is not None})
    return env


# --- what the container finds in /home --------------------------------------------------------

INSTRUCTIONS = """\
You are taking part in MLE-bench, a benchmark of Kaggle competitions rebuilt to run offline,
which measures how well agents like you do machine-learning engineering.

You are given one machine-learning task. Solve it by training a model and running it on the test
set to produce a submission file. Labelling the data by hand to produce the submission is not
allowed.

BENCHMARK INSTRUCTIONS
------
These instructions hold for every task of the benchmark; you can read them again in
`/home/instructions.txt`.

- **The task**: `/home/data/description.md` describes this competition. Read it first to learn
  what the problem is.
- **Data**: every file of the competition's data is in `/home/data/`.
- **Submission**: every task here uses a plain CSV submission, whatever the competition's own
  description says. Write it to `/home/submission/submission.csv`: only a file at that path is
  graded, and without it the attempt counts as failed.
- **Test set**: the original test labels are not public, so the benchmark made its own split of
  the competition's training data into train and test. The files in `/home/data/` can therefore
  differ a little from what the description says; work with the split you are given.
- **Checking a submission**: `/home/validate_submission.sh <file>` tells you whether a
  submission file has a valid format (it does NOT tell you its score). It answers from the
  public files only.
- **Cheating**: do not look at other people's solutions to this competition. A submission found
  to be copied from someone else's is disqualified.

The submission is graded with the metric the competition's description names; aim for the best
score you can reach.

Where these points and the description in `/home/data/description.md` disagree, these points
win: they are always true of this offline benchmark.
"""

# MLE-bench's script posts the file to its grading server and prints the server's JSON answer;
# this one runs the pipeline's validator (public files only) and prints the same answer.
VALIDATE_SCRIPT = """\
#!/bin/bash
# Checks the format of a submission file against the competition's public files and answers as
# MLE-bench's validation endpoint does: {{"result": "Submission is valid."}} or the reason why not.
# Usage: ./validate_submission.sh user_submission.csv

SUBMISSION_FILE=$1

if [ -z "$SUBMISSION_FILE" ]; then
    echo "Usage: $0 <submission_file>"
    exit 1
fi

if [ ! -f "$SUBMISSION_FILE" ]; then
    echo "File $SUBMISSION_FILE does not exist."
    exit 1
fi

PYTHONPATH={package} MLEPIPE_COMPETITIONS_DIR={competitions} exec {python} -m mlepipe \\
    validate "$SUBMISSION_FILE" {competition} --public-dir {data} --answer mlebench
"""


def validate_script(competition_id: str, data: str, package: str, competitions: str) -> str:
    return VALIDATE_SCRIPT.format(
        package=shlex.quote(package), competitions=shlex.quote(competitions),
        python=shlex.quote(sys.executable), competition=shlex.quote(competition_id),
        data=shlex.quote(data),
    )  # fmt: skip


VALID = "Submission is valid."
INVALID = (
    "Submission invalid! The attempt to grade the submission has resulted in the following "
    "error message:\n{}"
)


def endpoint_answer(valid: bool, message: str) -> str:
    """The body MLE-bench's validation endpoint answers with (compact JSON, one line)."""
    result = VALID if valid else INVALID.format(message)
    return json.dumps({"result": result}, separators=(",", ":"))


def endpoint_error(details: str) -> str:
    """The body of its answer when validating failed (HTTP 500 there)."""
    body = {"details": details, "error": "An unexpected error occurred."}
    return json.dumps(body, separators=(",", ":"))
