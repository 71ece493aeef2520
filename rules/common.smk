# Helpers for the rules: config validation, the experiment's tables, wildcard constraints and
# input functions. Facts come from the mlepipe package (one implementation of each).
import functools
import re
import shlex
import sys
from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError

from mlepipe import schemas
from mlepipe.agents.config import load_agents
from mlepipe.agents.envs import env_digest
from mlepipe.descriptions import experiment_descriptions
from mlepipe.gateway.metering import gateway_prices
from mlepipe.hardware import load_hardware, slurm_resources
from mlepipe.harness.slurm import settle_earlier_jobs
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
    stale_grade,
    stale_run,
)
from mlepipe.registry import Registry, RegistryError
from mlepipe.schemas import ConfigError


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
for _pair in config["compare"]:
    _check_names("compare", _pair, config["agents"])
    if _pair[0] == _pair[1]:
        raise ValueError(f"config key 'compare': {_pair} compares an agent with itself")
# The report statistics' settings, and each hardware config's limits for the leaderboard.
REPORT_SETTINGS = {
    "missing_seeds": config["missing_seeds"],
    "bootstrap": config["bootstrap"],
}
HARDWARE_LIMITS = {h: HARDWARE_ALL[h].as_run_limits() for h in config["hardware"]}
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
_experiment = [REGISTRY.get(c) for c in COMPETITIONS]
for _error in (
    data_source_error(_experiment, DATA, MIRROR),
    LEADERBOARDS.coverage_error(_experiment),
):
    if _error:
        raise WorkflowError(_error)

# The task text each competition's runs get (mlepipe.descriptions): its digest is a run param.
try:
    DESCRIPTIONS = experiment_descriptions(
        _experiment, config["descriptions"], config["mlebench_checkout"]
    )
except ConfigError as exc:
    raise WorkflowError(str(exc)) from None
# How run-agent is told the source (a run param: moving the checkout reruns its runs).
DESCRIPTION_ARGS = f"--description-source {config['descriptions']}"
if config["descriptions"].startswith("mlebench"):
    _checkout = Path(config["mlebench_checkout"]).resolve()
    DESCRIPTION_ARGS += f" --mlebench-checkout {shlex.quote(str(_checkout))}"
if config["sandbox"] == "none" and config["descriptions"] != "own":
    raise WorkflowError(
        f"descriptions: {config['descriptions']} needs a sandbox that can show the text over "
        "the shared prepared data; sandbox: none runs on the host, where the agent would read "
        "the project's own description.md (use bubblewrap, container or apptainer)"
    )

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
    agent_a="|".join(map(re.escape, AGENTS_ALL)),
    agent_b="|".join(map(re.escape, AGENTS_ALL)),
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


def _redo(path, reason):
    """Marks an existing output to be redone while the DAG is built: the mechanism Snakemake
    itself uses for --rerun-incomplete (the DAG's forced files)."""
    if workflow.dag is None:  # no DAG being built (e.g. --lint): nothing to plan
        return
    print(f"mlepipe: {path} is redone: {reason}", file=sys.stderr)
    workflow.dag.forcefiles.add(str(path))


@functools.cache
def _check_run(agent, hardware, competition, seed):
    wc = dict(agent=agent, hardware=hardware, competition=competition, seed=seed)
    run = rules.run_agent.output.run.format(**wc)
    reason = stale_run(Path(run), _agent_version(agent), DESCRIPTIONS[competition])
    if reason:
        _redo(run, reason)


@functools.cache
def _check_grade(agent, hardware, competition, seed):
    wc = dict(agent=agent, hardware=hardware, competition=competition, seed=seed)
    grade = rules.grade_run.output.grade.format(**wc)
    run = rules.run_agent.output.run.format(**wc)
    reason = stale_grade(Path(grade), _grading_version(competition), Path(run))
    if reason:
        _redo(grade, reason)


def redo_stale_run(wildcards):
    """No input. An existing run.json whose own record says it is no result for the current
    agent (another agent version, cancelled) is redone, also where Snakemake's metadata for it
    is missing (see mlepipe.pipeline.stale_run)."""
    _check_run(wildcards.agent, wildcards.hardware, wildcards.competition, wildcards.seed)
    return []


def redo_stale_grade(wildcards):
    """No input. The same for a grade: another grading version, or another attempt of its run."""
    _check_grade(wildcards.agent, wildcards.hardware, wildcards.competition, wildcards.seed)
    return []


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
    return grading_digest(REGISTRY.get(competition), variant=config["grading_variant"])


def agent_version(wildcards):
    return _agent_version(wildcards.agent)


def description_version(wildcards):
    """The task text's source and SHA-256: another text reruns that competition's runs."""
    d = DESCRIPTIONS[wildcards.competition]
    return f"{d.source}:{d.sha256}"


def agent_build_context(wildcards):
    """The files of an agent's build context: editing any rebuilds its image."""
    folder = AGENTS_ALL[wildcards.agent].build_dir
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder else []


def agent_image_input(wildcards):
    """A built image's id file, for runs in containers."""
    agent = AGENTS_ALL[wildcards.agent]
    if config["sandbox"] != "container" or agent.build_dir is None:
        return []
    return rules.build_image.output.image.format(agent=wildcards.agent)


def container_args(wildcards):
    if config["sandbox"] != "container":
        return ""
    allow = " --allow-privileged" if config["allow_privileged"] else ""
    return f"--container-engine {config['container_engine']}{allow}"


# Grading runs the pipeline's own code: in bubblewrap whenever the agents run in containers.
GRADING_SANDBOX = "none" if config["sandbox"] == "none" else "bubblewrap"


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
    name: digest(module_closure([f"mlepipe.reports.{name}"]))
    for name in ("tables", "charts", "leaderboard", "anytime")
}


def settle_earlier_slurm_jobs():
    """Under the Slurm executor, before anything is submitted: jobs that an earlier invocation
    of this workflow left queued or running are cancelled or waited for (config key
    slurm_earlier_jobs), instead of being submitted a second time. The plan was made before they
    ended, so after waiting the invocation stops: the next one sees what they finished."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.cli_prefix != "slurm":
        return
    policy = config["slurm_earlier_jobs"]
    prefix = getattr(workflow.executor_settings, "jobname_prefix", None)
    jobs = settle_earlier_jobs(Path(workflow.workdir_init), prefix, policy)
    if jobs and policy == "wait":
        raise WorkflowError(
            f"waited for {len(jobs)} Slurm job(s) of an earlier invocation; "
            "start the workflow again to go on with what they finished"
        )
