"""Runner none: every path the harness gives an agent is the host path behind its mount, so the
same agent works unchanged with and without the sandbox; the time limit still holds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlepipe.agents.config import Agent
from mlepipe.harness.run import run_agent
from pipeline import REPO, Workflow

HAVE_BWRAP = shutil.which("bwrap") is not None
RUNNERS = [
    "none",
    pytest.param(
        "bubblewrap",
        marks=[
            pytest.mark.sandbox,
            pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed"),
        ],
    ),
]
HW = {"cpus": 1, "memory_mb": 2048, "gpus": 0, "time_limit_seconds": 120}
PROBE = Agent(
    "probe",
    {"kind": "command", "command": "python /home/agent/probe.py /home/data --logs=/home/logs",
     "code_dir": "agents_contract"},
    Path(__file__).parent,
)  # fmt: skip


def _run(agent: Agent, registry, practice_data: Path, run_dir: Path, runner: str, hw=HW) -> dict:
    return run_agent(
        agent=agent, competition=registry.get("practice-wine"), hardware_name="test", hw=hw,
        seed=0, data_dir=practice_data, run_dir=run_dir, sandbox=runner,
    )  # fmt: skip


def _validates(submission: Path, data_dir: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mlepipe", "validate", str(submission), "practice-wine"]
    return subprocess.run(
        [*cmd, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("runner", RUNNERS)
def test_command_agent_finds_every_path_it_is_given(tmp_path, registry, practice_data, runner):
    run_dir = tmp_path / "run"
    record = _run(PROBE, registry, practice_data, run_dir, runner)
    stderr = (run_dir / "logs" / "agent.stderr").read_text()
    assert record["status"] == "ok", (record, stderr)
    assert record["runner"] == runner and record["sandbox"] == runner
    given = json.loads((run_dir / "code" / "given.json").read_text())
    assert given["missing"] == [], given
    assert given["data_has_description"]
    assert given["validator"]["returncode"] == 0, given["validator"]
    assert given["instructions"] and given["validate"]
    done = _validates(run_dir / "submission.csv", practice_data)
    assert done.returncode == 0, done.stdout + done.stderr
    if runner == "none":
        # The agent ran on the host: what it was told are host paths, and they exist here too.
        env = given["env"]
        paths = [given["cwd"], *given["argv"], *env.values(), *given["pythonpath"]]
        paths += given["instructions"] + given["validate"]
        paths = [p.partition("=")[2] if p.startswith("--") else p for p in paths]
        for p in paths:
            assert Path(p).exists() and not p.startswith(("/home/", "/opt/mlepipe")), p
        public = registry.get("practice-wine").public_dir(practice_data).resolve()
        assert Path(env["DATA_DIR"]) == public == Path(given["argv"][0])
        assert Path(env["SUBMISSION_DIR"]) == run_dir / "submission"
        assert Path(given["cwd"]) == run_dir / "home"
        assert str(public) in given["validate"]
    else:
        assert given["env"]["DATA_DIR"] == "/home/data" and given["cwd"] == "/home"


def test_builtin_dummy_runs_without_the_sandbox(tmp_path, registry, practice_data):
    run_dir = tmp_path / "run"
    record = _run(Agent("dummy", {"kind": "builtin"}, REPO / "config"), registry,
                  practice_data, run_dir, "none")  # fmt: skip
    stderr = (run_dir / "logs" / "agent.stderr").read_text()
    assert record["status"] == "ok" and record["runner"] == "none", (record, stderr)
    assert "validator: passed" in stderr
    assert (run_dir / "code" / "summary.json").is_file()  # CODE_DIR, not the host's /home/code
    assert _validates(run_dir / "submission.csv", practice_data).returncode == 0


def test_time_limit_holds_without_the_sandbox(tmp_path, registry, practice_data):
    sleeper = Agent("sleeper", {"kind": "command", "command": "sleep 600"}, tmp_path)
    record = _run(sleeper, registry, practice_data, tmp_path / "run", "none",
                  hw={**HW, "time_limit_seconds": 2})  # fmt: skip
    assert record["status"] == "timeout" and record["timed_out"]
    assert record["wall_seconds"] < 20


@pytest.mark.slow
def test_pipeline_with_sandbox_none(tmp_path, registry):
    agents = {"dummy": {"kind": "builtin"}, "baseline": {"kind": "builtin"}}
    config = {
        "competitions": ["practice-wine"], "agents": ["dummy", "baseline"],
        "hardware": ["cpu-small"], "seeds": [0], "data_dir": str(tmp_path / "data"),
        "sandbox": "none",
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 2, "gpus": {"count": 0}, "time_limit": "2m"}}
    wf = Workflow(tmp_path / "wf", config, agents=agents, hardware=hardware)
    wf.snakemake()
    runs = wf.runs()
    assert {k[0] for k in runs} == {"dummy", "baseline"}
    for key, r in runs.items():
        assert r["status"] == "ok" and r["runner"] == "none", (key, r)
    grades = {k[0]: g for k, g in wf.grades().items()}
    for name, g in grades.items():
        assert g["valid_submission"], (name, g["invalid_reason"])
        assert g["sandboxed"] is False and g["run_status"] == "ok"
    dummy, baseline = grades["dummy"]["score"], grades["baseline"]["score"]
    lower = grades["dummy"]["is_lower_better"]
    assert (baseline < dummy) if lower else (baseline > dummy), (dummy, baseline)
