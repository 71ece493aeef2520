"""Agents with their own Python environments (`requirements:`), through the real workflow and
the real bubblewrap sandbox, offline: the requirements are a small wheel the test builds, so
pip needs no index. One environment per digest, built once for the agents that share it; the
agent runs with it (not the pipeline's packages, not the `mlepipe` package), `/home/validate`
still works; editing one agent's requirements reruns that agent only; a failed build is one
line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from mlepipe.agents.config import Agent
from mlepipe.schemas import ConfigError
from pipeline import REPO, Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

HARDWARE = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "2m"}}
COMPETITION = "practice-wine"

# What the agent finds out about its environment, from inside the sandbox.
PROBE = """\
import json, os, shutil, subprocess, sys
from importlib.util import find_spec
import env_probe_helper

data, out = os.environ["DATA_DIR"], os.environ["SUBMISSION_DIR"]
shutil.copy(os.path.join(data, "sample_submission.csv"), os.path.join(out, "submission.csv"))
check = subprocess.run([os.environ["VALIDATE"]], capture_output=True, text=True)
facts = {
    "prefix": sys.prefix, "helper": env_probe_helper.VERSION,
    "mlepipe": find_spec("mlepipe") is not None, "pandas": find_spec("pandas") is not None,
    "pythonpath": os.environ.get("PYTHONPATH"),
    "validate": [check.returncode, check.stdout + check.stderr],
}
with open(os.path.join(os.environ["LOGS_DIR"], "env.json"), "w") as f:
    json.dump(facts, f)
"""


def make_wheel(folder: Path, version: str) -> Path:
    """A pure-Python wheel of one module, `env_probe_helper`, installable without an index."""
    folder.mkdir(parents=True, exist_ok=True)
    name = "env_probe_helper"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def probe_agent(root: Path, requirements) -> dict:
    code = root / "probe"
    code.mkdir(exist_ok=True)
    (code / "main.py").write_text(PROBE)
    spec = {"kind": "command", "command": "python /home/agent/main.py", "code_dir": str(code)}
    return {**spec, "requirements": requirements}


# --- definitions (no pipeline) ------------------------------------------------------------------


def test_a_requirements_file_versions_the_agent_by_its_content(tmp_path):
    (tmp_path / "reqs.txt").write_text("six==1.16.0\n")
    agent = Agent("a", {"kind": "command", "command": "true", "requirements": "reqs.txt"}, tmp_path)
    before = agent.version()
    assert agent.requirements == ["six==1.16.0"]
    (tmp_path / "reqs.txt").write_text("# pinned for the agent\nsix==1.16.0  # why\n\n")
    assert agent.version() == before  # comments and blank lines are no change
    (tmp_path / "reqs.txt").write_text("six==1.17.0\n")
    assert agent.version() != before
    (tmp_path / "reqs.txt").unlink()
    with pytest.raises(ConfigError, match="cannot read its requirements file .*reqs.txt"):
        agent.version()


def test_only_a_command_agent_can_declare_requirements(tmp_path):
    Agent("c", {"kind": "command", "command": "true", "requirements": ["six"]}, tmp_path)
    with pytest.raises(ConfigError, match="agent 'b'"):
        Agent("b", {"kind": "builtin", "requirements": ["six"]}, tmp_path)


def test_a_failed_build_is_one_line_and_leaves_nothing(tmp_path):
    missing = str(tmp_path / "missing-1.0-py3-none-any.whl")
    agents = {"broken": {"kind": "command", "command": "true", "requirements": [missing]}}
    (tmp_path / "agents.yaml").write_text(yaml.safe_dump(agents))
    envs = tmp_path / "envs"
    done = subprocess.run(
        [sys.executable, "-m", "mlepipe", "build-env", "--agent", "broken",
         "--agents-file", str(tmp_path / "agents.yaml"), "--envs-dir", str(envs)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(
        "mlepipe: error: building the Python environment of agent 'broken' failed: "
        "pip install -r requirements exited 1: ERROR:"
    ), line
    assert "missing-1.0-py3-none-any.whl" in line
    assert list(envs.iterdir()) == []  # the temporary folder is gone, nothing marked built


# --- through the pipeline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("agent-envs")
    wheels = root / "wheels"
    one, two = make_wheel(wheels / "v1", "1.0"), make_wheel(wheels / "v2", "2.0")
    agents = {
        "dummy": {"kind": "builtin"},
        # The same requirements: one environment for both.
        "probe-a": probe_agent(root, [str(one)]),
        "probe-b": probe_agent(root, [str(one)]),
        # Its own, from a requirements file beside agents.yaml.
        "probe-c": probe_agent(root, "probe-c-requirements.txt"),
    }
    config = {
        "competitions": [COMPETITION], "agents": list(agents), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(root / "data"),
    }  # fmt: skip
    workflow = Workflow(root / "wf", config, agents=agents, hardware=HARDWARE, own_code=True)
    (workflow.root / "config" / "probe-c-requirements.txt").write_text(f"{two}\n")
    workflow.wheels = (one, two)
    proc = workflow.snakemake()
    workflow.first_output = proc.stdout + proc.stderr
    return workflow


def env_facts(wf: Workflow, agent: str) -> dict:
    run = wf.results / "runs" / agent / "cpu-small" / COMPETITION / "0"
    return json.loads((run / "logs" / "env.json").read_text())


def test_each_environment_is_built_once_and_the_agents_run_in_it(wf):
    envs = sorted(p for p in (wf.results / "envs").iterdir())
    assert len(envs) == 2 and all((p / ".complete").is_file() for p in envs)
    assert wf.first_output.count("rule agent_env:") == 2
    shared, own = env_facts(wf, "probe-a"), env_facts(wf, "probe-c")
    assert env_facts(wf, "probe-b")["prefix"] == shared["prefix"] != own["prefix"]
    assert {shared["prefix"], own["prefix"]} == {str(p) for p in envs}
    assert (shared["helper"], own["helper"]) == ("1.0", "2.0")
    record = json.loads((Path(own["prefix"]) / ".complete").read_text())
    assert record["requirements"] == [str(wf.wheels[1])]
    assert "env_probe_helper @ file://" in "\n".join(record["installed"])
    runs = wf.runs()
    for name in ("probe-a", "probe-b", "probe-c"):
        facts = env_facts(wf, name)
        # Neither the pipeline's packages nor its own package reach the agent's environment ...
        assert not facts["pandas"] and not facts["mlepipe"] and facts["pythonpath"] is None
        # ... and its validator still runs, with the pipeline's interpreter.
        assert facts["validate"][0] == 0, facts["validate"]
        assert runs[(name, "cpu-small", COMPETITION, 0)]["python_env"] == facts["prefix"]
    assert runs[("dummy", "cpu-small", COMPETITION, 0)]["python_env"] is None
    assert all(g["valid_submission"] for g in wf.grades().values())


def test_without_a_sandbox_the_agent_gets_its_environment_too(wf, tmp_path):
    from mlepipe.agents.config import load_agents
    from mlepipe.harness.run import run_agent
    from mlepipe.registry import Registry

    agent = load_agents(wf.root / "config" / "agents.yaml")["probe-a"]
    hw = {"time_limit_seconds": 120, "cpus": 1}
    record = run_agent(
        agent=agent, competition=Registry(REPO / "competitions").get(COMPETITION),
        hardware_name="cpu-small", hw=hw, seed=0, data_dir=wf.root.parent / "data",
        run_dir=tmp_path / "run", sandbox="none", envs_dir=wf.results / "envs",
    )  # fmt: skip
    assert record["status"] == "ok", record
    facts = json.loads((tmp_path / "run" / "logs" / "env.json").read_text())
    assert facts["prefix"] == record["python_env"] == env_facts(wf, "probe-a")["prefix"]
    assert not facts["mlepipe"] and not facts["pandas"] and facts["validate"][0] == 0, facts


def test_editing_one_agents_requirements_reruns_that_agent_only(wf):
    assert jobs_planned(wf.snakemake("-n")) == {}
    reqs = "config/probe-c-requirements.txt"
    with wf.edited(reqs, f"# the probe's pin\n{wf.wheels[1]}\n"):  # a comment changes nothing
        assert jobs_planned(wf.snakemake("-n")) == {}
    rerun = {"run_agent": 1, "grade_run": 1, "competition_table": 1, "report_tables": 1,
             "report_charts": 1, "report_anytime": 1, "export_leaderboard": 1,
             "all": 1}  # fmt: skip
    # The same wheel, named otherwise: a new environment, for this agent's run only.
    with wf.edited(reqs, f"env_probe_helper @ {wf.wheels[1].as_uri()}\n"):
        assert jobs_planned(wf.snakemake("-n")) == {"agent_env": 1, **rerun}
    # The requirements of the other two: their environment, already built, serves it as well.
    with wf.edited(reqs, f"{wf.wheels[0]}\n"):
        assert jobs_planned(wf.snakemake("-n")) == rerun


def test_a_failed_environment_build_stops_that_agent_only(tmp_path):
    agents = {
        "dummy": {"kind": "builtin"},
        "broken": probe_agent(tmp_path, [str(tmp_path / "missing-1.0-py3-none-any.whl")]),
    }
    config = {
        "competitions": [COMPETITION], "agents": list(agents), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(tmp_path / "data"),
    }  # fmt: skip
    wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=HARDWARE, own_code=True)
    proc = wf.snakemake(check=False)
    assert proc.returncode != 0
    [log] = (wf.results / "logs" / "envs").glob("*.log")
    last = log.read_text().strip().splitlines()[-1]
    assert last.startswith(
        "mlepipe: error: building the Python environment of agent 'broken' failed: pip install"
    ), last
    assert last in proc.stdout + proc.stderr  # Snakemake shows the failed job's log
    envs = wf.results / "envs"  # nothing built, no temporary folder left
    assert list(envs.glob("*/.complete")) == [] and list(envs.glob(".*")) == []
    assert set(wf.runs()) == {("dummy", "cpu-small", COMPETITION, 0)}  # the others go on
