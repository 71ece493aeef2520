"""Results carry their own provenance, through the real workflow on a practice competition and a
real one from the Kaggle mirror: a run whose run.json names another agent version (or a grade
of another grading version) is redone even where Snakemake's metadata for it is missing, as
after jobs that finished while Snakemake was dead; a redone run takes its old grade with it, so
that a failed attempt leaves no grade to be reported as current."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline import REPO, Workflow, jobs_planned

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

MIRROR = REPO.parent / "shared" / "kaggle-mirror"
COMPETITIONS = ["practice-wine"]
if (MIRROR / "spaceship-titanic.zip").is_file():
    COMPETITIONS.append("spaceship-titanic")
HARDWARE = {"cpu-1": {"cpus": 1, "memory_gb": 1, "time_limit": "2m"}}


def agents(steps: int) -> dict:
    # `steps` is a setting: editing it changes the agent's version. The agent says that it has
    # started (a file in its logs), works a moment and gives up without a submission.
    return {
        "dummy": {"kind": "builtin"},
        "sleepy": {"kind": "command", "settings": {"steps": steps}, "command": (
            "python -c \"import pathlib, time; pathlib.Path('/home/logs/started').touch(); "
            "time.sleep(4)\""
        )},
    }  # fmt: skip


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    root = tmp_path_factory.mktemp("provenance")
    config = {
        "competitions": COMPETITIONS, "agents": ["dummy", "sleepy"], "hardware": ["cpu-1"],
        "seeds": [0], "data_dir": str(root / "data"),
        "mirror": str(MIRROR) if MIRROR.is_dir() else None,
    }  # fmt: skip
    workflow = Workflow(root, config, agents=agents(1), hardware=HARDWARE, own_code=True)
    workflow.snakemake(timeout=900)
    assert len(workflow.grades()) == 2 * len(COMPETITIONS)
    return workflow


def forget_metadata(wf: Workflow) -> None:
    """What jobs finished while Snakemake was not running leave behind: no metadata."""
    shutil.rmtree(wf.root / ".snakemake" / "metadata")


def planned(wf: Workflow) -> dict[str, int]:
    return jobs_planned(wf.snakemake("-n"))


def test_runs_without_metadata_are_redone_when_their_agent_changed(wf):
    forget_metadata(wf)
    assert planned(wf) == {}  # nothing changed: everything is kept
    wf.write_yaml("config/agents.yaml", agents(2))
    versions = {k: r["agent_version"] for k, r in wf.runs().items()}
    plan = planned(wf)
    assert plan.get("run_agent") == len(COMPETITIONS), plan  # sleepy's runs only
    assert plan.get("grade_run") == len(COMPETITIONS), plan
    wf.snakemake(timeout=900)
    for key, run in wf.runs().items():
        assert (run["agent_version"] != versions[key]) == (key[0] == "sleepy"), key
        assert wf.grades()[key]["run_id"] == run["run_id"], key
    assert planned(wf) == {}


def test_grades_without_metadata_are_redone_when_grading_changed(wf):
    forget_metadata(wf)
    rel = "competitions/practice-wine/competition.yaml"
    spec = yaml.safe_load((wf.root / rel).read_text())
    spec["grading"]["extra_columns"] = "ignore"
    runs_before = wf.mtimes("runs/*/*/*/*/run.json")
    with wf.edited(rel, yaml.safe_dump(spec, sort_keys=False)):
        plan = planned(wf)
        assert plan.get("grade_run") == 2 and "run_agent" not in plan, plan
        wf.snakemake(timeout=900)
    assert wf.mtimes("runs/*/*/*/*/run.json") == runs_before


def harness_of(wf: Workflow, run_dir: Path) -> int:
    """The pid of the `mlepipe run-agent` process writing ``run_dir`` (named relative to the
    workflow's directory, its working directory)."""
    rel = str(run_dir.relative_to(wf.root)).encode()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"run-agent" in cmdline and rel in cmdline and cwd == str(wf.root):
            return int(proc.name)
    raise AssertionError(f"no harness process for {run_dir}")


def test_a_failed_attempt_leaves_no_old_grade_and_is_redone(wf):
    """A rerun cancelled (SIGTERM to its harness, as scancel sends it) fails its job; the grade
    of the earlier attempt is gone, the run summary does not count it, and the next invocation
    redoes the run."""
    key = ("sleepy", "cpu-1", "practice-wine", 0)
    grade = wf.results / "grades" / "sleepy/cpu-1/practice-wine/0.json"
    run_dir = wf.results / "runs" / "sleepy/cpu-1/practice-wine/0"
    assert grade.is_file()
    wf.config["competitions"] = ["practice-wine"]
    wf.write_yaml("config/config.yaml", wf.config)
    wf.write_yaml("config/agents.yaml", agents(3))
    (run_dir / "logs" / "started").unlink()  # left by the earlier attempt
    log = wf.root / "cancelled-run.log"
    with open(log, "w") as out:
        snakemake = subprocess.Popen(
            [str(Path(sys.executable).parent / "snakemake"), "--cores", "2"], cwd=wf.root,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                 **wf.env},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while not (run_dir / "logs" / "started").exists():
                assert time.monotonic() < deadline and snakemake.poll() is None, log.read_text()
                time.sleep(0.2)
            assert not grade.exists()  # gone as soon as the new attempt started
            os.kill(harness_of(wf, run_dir), signal.SIGTERM)
            assert snakemake.wait(timeout=300) != 0
        finally:
            if snakemake.poll() is None:
                os.killpg(snakemake.pid, signal.SIGKILL)
    text = log.read_text()
    assert not grade.exists(), text
    assert "out of date" in text, text  # the summary does not present the old reports as current
    job_log = (wf.results / "logs/runs/sleepy/cpu-1/practice-wine/0.log").read_text()
    assert "run sleepy/cpu-1/practice-wine/0: cancelled" in job_log, job_log
    assert "cancelled by SIGTERM" in job_log
    plan = planned(wf)
    assert plan.get("run_agent") == 1 and plan.get("grade_run") == 1, plan
    assert key not in wf.grades()
