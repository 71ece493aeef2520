# Helpers for the rules: config validation, the experiment's tables, wildcard constraints and
# input functions. Facts come from the mlepipe package (one implementation of each).
import functools
import re
from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError

from mlepipe import schemas
from mlepipe.agents.config import load_agents
from mlepipe.agents.envs import env_digest
from mlepipe.gateway.metering import gateway_prices
from mlepipe.hardware import load_hardware, slurm_resources
from mlepipe.grading.leaderboards import LeaderboardError, LeaderboardSource
from mlepipe.pipeline import (
    coerce_config,
    data_source_error,
    digest,
    experiment_competitions,
    grading_digest,
    module_closure,
    preparation_digest,
    put_interpreter_on_path,
)
from mlepipe.registry import Registry, RegistryError


# `--config seeds=[0,1,2]` arrives as text: read it the way the schema says, then validate.
coerce_config(config, schemas.load_schema("experiment"))
_sources = ", ".join([*map(str, workflow.configfiles), "--config"])
schemas.validate("experiment", config, f"the experiment ({_sources})")

# Jobs call `python -m mlepipe` of the environment that runs Snakemake (see the function).
put_interpreter_on_path()
MLEPIPE = "python -m mlepipe"

REGISTRY = Registry()
AGENTS_ALL = load_agents(Path(config["agents_file"]))
HARDWARE_ALL = load_hardware(Path(config["hardware_file"]))
try:
    LEADERBOARDS = LeaderboardSource.parse(config["leaderboards"])
except LeaderboardError as exc:
    raise WorkflowError(f"config key 'leaderboards': {exc}") from None


def _check_names(key, names, known):
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"config key '{key}': unknown name(s) {unknown}; known: {sorted(known)}"
        )


_check_names("agents", config["agents"], AGENTS_ALL)
_check_names("hardware", config["hardware"], HARDWARE_ALL)
try:
    COMPETITIONS, EXCLUDED = experiment_competitions(
        REGISTRY, config["competitions"], config["exclude_known_issues"]
    )
except RegistryError as exc:
    raise ValueError(f"config key 'competitions': {exc}") from None

DATA = Path(config["data_dir"])
RESULTS = Path(config["results_dir"])
REPORTS = RESULTS / "reports"
ENVS = Path(config["envs_dir"]) if config["envs_dir"] else RESULTS / "envs"
MIRROR = Path(config["mirror"]).resolve() if config["mirror"] else None

# Before any job starts: every competition can be obtained, and every medal has thresholds.
for _error in (
    data_source_error([REGISTRY.get(c) for c in COMPETITIONS], DATA, MIRROR),
    LEADERBOARDS.coverage_error([REGISTRY.get(c) for c in COMPETITIONS]),
):
    if _error:
        raise WorkflowError(_error)

# The experiment as a table: one row per run.
RUNS = pd.DataFrame(
    [
        {"agent": a, "hardware": h, "competition": c, "seed": s}
        for a in config["agents"]
        for h in config["hardware"]
        for c in COMPETITIONS
        for s in config["seeds"]
    ]
)


@functools.cache
def _agent_env(name):
    agent = AGENTS_ALL[name]
    return env_digest(agent) if agent.has_own_env else None


# The agents' own Python environments: each built once, for all the agents that share it.
AGENT_ENVS = {}
for _name in config["agents"]:
    if _agent_env(_name):
        AGENT_ENVS.setdefault(_agent_env(_name), _name)


wildcard_constraints:
    agent="|".join(map(re.escape, AGENTS_ALL)),
    env=r"[0-9a-f]{16}",
    hardware="|".join(map(re.escape, HARDWARE_ALL)),
    competition="|".join(map(re.escape, REGISTRY.ids())),
    seed=r"\d+",


# --- paths ---------------------------------------------------------------------------------
# Paths are spelled once, in the rule that writes them; these read them from the rules (called
# only once the rule files are included).


def prepared_marker(wildcards):
    return rules.prepare_competition.output.checksums.format(competition=wildcards.competition)


def agent_env_input(wildcards):
    """The agent's own environment (nothing for an agent that uses the pipeline's)."""
    env = _agent_env(wildcards.agent)
    return [rules.agent_env.output.complete.format(env=env)] if env else []


def _grades(runs):
    return expand(rules.grade_run.output.grade, zip, **{k: runs[k] for k in RUNS.columns})


def all_grades():
    return _grades(RUNS)


def competition_grades(wildcards):
    return _grades(RUNS[RUNS.competition == wildcards.competition])


# --- input functions and params ------------------------------------------------------------


def raw_zip_input(wildcards):
    """The mirror's zip: re-staging it re-prepares that competition. Definitions and code are
    tracked by digest (preparation_version), not by file dates."""
    if MIRROR is None or REGISTRY.get(wildcards.competition).practice:
        return []
    return [MIRROR / f"{wildcards.competition}.zip"]


def leaderboard_input(wildcards):
    path = LEADERBOARDS.file_for(REGISTRY.get(wildcards.competition))
    return [path] if path is not None and path.exists() else []


# Digests are computed once per name, not once per job (thousands of jobs in a full matrix).
@functools.cache
def _agent_version(name):
    return AGENTS_ALL[name].version()


@functools.cache
def _preparation_version(competition):
    return preparation_digest(REGISTRY.get(competition))


@functools.cache
def _grading_version(competition):
    return grading_digest(REGISTRY.get(competition))


def agent_version(wildcards):
    return _agent_version(wildcards.agent)


@functools.cache
def _agent_prices(name):
    return gateway_prices(AGENTS_ALL[name], Path(config["prices_file"]))


def agent_prices(wildcards):
    return _agent_prices(wildcards.agent)


def preparation_version(wildcards):
    return _preparation_version(wildcards.competition)


def grading_version(wildcards):
    return _grading_version(wildcards.competition)


GRADING_RETRIES = 2


def grading_memory_mb(attempt):
    """The grading sandbox's memory on an attempt (1, 2, 3): doubled on each retry."""
    return config["grading_memory_mb"] * 2 ** (attempt - 1)


def run_resource(hardware, name):
    """One Snakemake resource of an agent run on a hardware config. The same names serve the
    local executor (gpu as a global resource) and the Slurm executor (runtime, mem_mb,
    cpus_per_task, gpu, gpu_model); the profile maps them to a site."""
    return RUN_RESOURCES[hardware].get(name, 0 if name != "gpu_model" else "")


def run_threads(hardware):
    return RUN_RESOURCES[hardware].get("cpus_per_task") or 1


RUN_RESOURCES = {name: slurm_resources(hw) for name, hw in HARDWARE_ALL.items()}

# The report code lives in the package (the scripts are thin): its digest is a param, so that
# editing it rebuilds the reports.
REPORT_CODE = {
    name: digest(module_closure([f"mlepipe.reports.{name}"])) for name in ("tables", "charts")
}
