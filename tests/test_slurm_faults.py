"""Faults on a live single-node Slurm (tests/slurm): scancel of an agent run, a Snakemake killed
with SIGKILL while its jobs run on, locks held by Slurm jobs, and what run.json knows of its job.
Real `mlepipe run-agent` in the bubblewrap sandbox, real sbatch/scancel, and the pipeline through
`snakemake --profile slurm`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from mlepipe.harness import slurm
from pipeline import REPO, Workflow
from slurm.fixtures import sbatch, slurm_cluster, wait_finished  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

BIN = Path(sys.executable).parent
HARDWARE = {"cpu-1": {"cpus": 1, "memory_gb": 1, "time_limit": "3m"}}


def agents(sleep: int) -> dict:
    # "sleeper" says that it started (a file in its logs), then sleeps.
    return {
        "dummy": {"kind": "builtin"},
        "sleeper": {"kind": "command", "command": (
            "python -c \"import pathlib, time; pathlib.Path('/home/logs/started').touch(); "
            f"time.sleep({sleep})\""
        )},
    }  # fmt: skip


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, check=True
    ).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


def wait_for(path: Path, timeout: float, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def setup(slurm_cluster, tmp_path_factory, practice_data):  # noqa: F811
    root = tmp_path_factory.mktemp("slurm-faults")
    (root / "agents.yaml").write_text(yaml.safe_dump(agents(600)))
    (root / "hardware.yaml").write_text(yaml.safe_dump(HARDWARE))
    return root, practice_data


def run_agent_argv(root: Path, data: Path, run_dir: Path, agent: str) -> str:
    return (
        f"{sys.executable} -m mlepipe run-agent --agent {agent} --hardware cpu-1 "
        f"--competition practice-wine --seed 0 --data-dir {data} --run-dir {run_dir} "
        f"--agents-file {root / 'agents.yaml'} --hardware-file {root / 'hardware.yaml'}"
    )


def submit_run(root: Path, data: Path, run_dir: Path, agent: str, *extra: str) -> str:
    return sbatch(
        "--mem=500", "--time=5", "-o", str(run_dir.parent / f"{run_dir.name}.out"),
        f"--export=ALL,PYTHONPATH={REPO}", *extra,
        "--wrap", run_agent_argv(root, data, run_dir, agent),
    )  # fmt: skip


# --- one run as a batch job -----------------------------------------------------------------


def test_scancel_leaves_a_cancelled_run_json_with_the_jobs_identity(setup, tmp_path):
    """scancel sends SIGTERM, then SIGKILL after KillWait (2 s here): the harness stops the agent
    and writes run.json in that time. run.json names the job and the memory it was given."""
    root, data = setup
    run_dir = tmp_path / "run"
    job = submit_run(root, data, run_dir, "sleeper", "--job-name", "mlepipe-probe")
    wait_for(run_dir / "logs" / "started", timeout=120)
    subprocess.run(["scancel", job], check=True)
    assert wait_finished(job, timeout=60) == "CANCELLED"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "cancelled" and run["cancelled_by"] == "SIGTERM", run
    slurm = run["slurm"]
    assert slurm["SLURM_JOB_ID"] == job
    assert slurm["job_name"] == "mlepipe-probe" and slurm["memory_mb"] == 500, slurm
    out = (run_dir.parent / "run.out").read_text()
    assert "cancelled by SIGTERM" in out, out


# --- locks held by Slurm jobs ---------------------------------------------------------------


def write_lock(run_dir: Path, host: str, pid: int, job: str) -> Path:
    lock = run_dir.parent / f".{run_dir.name}.lock"
    owner = {
        "host": host,
        "pid": pid,
        "process_start": "1",
        "slurm_job_id": job,
        "since": "earlier",
    }
    lock.write_text(json.dumps(owner))
    return lock


def run_here(root: Path, data: Path, run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        run_agent_argv(root, data, run_dir, "dummy").split(), capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip


def test_a_lock_of_a_job_on_another_node_holds_until_that_job_ends(setup, tmp_path):
    root, data = setup
    run_dir = tmp_path / "run"
    holder = sbatch("--time=1", "-o", "/dev/null", "--wrap", "sleep 12")
    write_lock(run_dir, "node-elsewhere", 4242, holder)
    done = run_here(root, data, run_dir)
    assert done.returncode == 0, done.stderr
    assert (
        f"waiting for the lock held by node-elsewhere pid 4242, Slurm job {holder}" in done.stderr
    )
    assert f"Slurm job {holder} has ended" in done.stderr, done.stderr
    ended = datetime.fromisoformat(scontrol(holder)["EndTime"]).timestamp()
    started = datetime.fromisoformat(json.loads((run_dir / "run.json").read_text())["start"])
    assert started.timestamp() >= ended, (started, ended)


def test_a_lock_of_an_ended_job_is_broken_at_once(setup, tmp_path):
    root, data = setup
    run_dir = tmp_path / "run"
    holder = sbatch("-o", "/dev/null", "--wrap", "true")
    wait_finished(holder, timeout=60)
    write_lock(run_dir, "node-elsewhere", 4242, holder)
    done = run_here(root, data, run_dir)
    assert done.returncode == 0, done.stderr
    assert "breaking a stale lock" in done.stderr and f"Slurm job {holder} has ended" in done.stderr
    assert "waiting" not in done.stderr


# --- the pipeline: a Snakemake killed while its jobs run ------------------------------------

SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")


def live_jobs(workdir: Path) -> dict[str, dict[str, str]]:
    """This workflow's queued or running jobs: id -> name, comment."""
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i|%j|%k|%Z"], capture_output=True, text=True, check=True
    ).stdout
    jobs = {}
    for line in out.splitlines():
        job_id, name, comment, job_dir = line.split("|")
        if job_dir == str(workdir):
            jobs[job_id] = {"name": name, "comment": comment}
    return jobs


@pytest.fixture(scope="module")
def killed_and_restarted(slurm_cluster, tmp_path_factory):  # noqa: F811
    """The workflow with two sleeping agent runs and two quick ones; Snakemake is killed with
    SIGKILL once both sleepers run, then started again (after --unlock, as the README says)."""
    root = tmp_path_factory.mktemp("killed")
    config = {
        "competitions": ["practice-wine"], "agents": ["dummy", "sleeper"],
        "hardware": ["cpu-1"], "seeds": [0, 1], "data_dir": str(root / "data"),
    }  # fmt: skip
    wf = Workflow(root / "wf", config, agents=agents(600), hardware=HARDWARE)
    first_log = wf.root / "first.log"
    with open(first_log, "w") as out:
        first = subprocess.Popen(
            [str(BIN / "snakemake"), "--profile", "slurm"], cwd=wf.root, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
        )  # fmt: skip
    orphans: dict[str, dict[str, str]] = {}
    try:
        for seed in (0, 1):
            started = wf.results / "runs/sleeper/cpu-1/practice-wine" / str(seed) / "logs/started"
            wait_for(started, timeout=400, what=first_log.read_text()[-3000:])
        orphans = live_jobs(wf.root)
        assert sum("sleeper" in info["comment"] for info in orphans.values()) == 2, orphans
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        time.sleep(2)
        assert set(orphans) <= set(live_jobs(wf.root)), "the sleepers did not outlive Snakemake"
        wf.write_yaml("config/agents.yaml", agents(1))  # the redone sleepers are quick
        wf.snakemake("--profile", "slurm", "--unlock", cores=False)
        second = wf.snakemake("--profile", "slurm", cores=False, timeout=600, check=False)
    finally:
        for job in orphans:  # only this test's own jobs
            subprocess.run(["scancel", job], check=False)
    return wf, orphans, second


def test_a_restart_cancels_the_earlier_jobs_before_submitting(killed_and_restarted):
    wf, orphans, second = killed_and_restarted
    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-4000:]
    assert f"cancelling {len(orphans)} job(s) of an earlier run" in log, log[-4000:]
    for job in orphans:
        assert scontrol(job)["JobState"] == "CANCELLED", job
    # Each run ran in one job at a time: every job of the restart began after the orphans ended.
    orphans_ended = max(datetime.fromisoformat(scontrol(j)["EndTime"]) for j in orphans)
    resubmitted = SUBMITTED.findall(log)
    assert resubmitted
    for job in resubmitted:
        assert datetime.fromisoformat(scontrol(job)["SubmitTime"]) >= orphans_ended, job
    runs = wf.runs()
    assert len(runs) == 4 and all(
        r["status"] == "ok" or r["agent"] == "sleeper" for r in runs.values()
    )
    assert {r["status"] for k, r in runs.items() if k[0] == "sleeper"} == {"no-submission"}
    assert len(wf.grades()) == 4


def test_run_json_names_its_slurm_job_and_allocated_memory(killed_and_restarted):
    wf, _, _ = killed_and_restarted
    for key, run in wf.runs().items():
        slurm = run["slurm"]
        info = scontrol(slurm["SLURM_JOB_ID"])
        # The job's own name (the plugin's run id), not the job step's command.
        assert slurm["job_name"] == info["JobName"] and slurm["job_name"].startswith("mlepipe_")
        agent, hardware, competition, seed = key
        assert (
            slurm["job_comment"]
            == f"rule_run_agent_wildcards_{agent}_{hardware}_{competition}_{seed}"
        )
        assert slurm["memory_mb"] == run["hardware_spec"]["memory_mb"] == 1000, slurm
        assert slurm["cpus"] == 1, slurm


# --- earlier jobs: which are this workflow's, and waiting for them ----------------------------


def plugin_job(workdir: Path, seconds: int, name: str | None = None) -> str:
    """A job as the executor plugin submits it: named <prefix>_<uuid>, started in ``workdir``."""
    name = name or f"mlepipe_{uuid.uuid4()}"
    return sbatch("-J", name, "-D", str(workdir), "-o", "/dev/null", "--wrap", f"sleep {seconds}")


def test_only_this_workflows_jobs_are_settled_and_wait_lets_them_finish(slurm_cluster, tmp_path):  # noqa: F811
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    mine = plugin_job(ours, 6)
    other_workflow = plugin_job(theirs, 60)
    not_the_plugins = plugin_job(ours, 60, name="interactive-work")
    try:
        jobs = slurm.settle_earlier_jobs(ours, "mlepipe", "wait", poll_seconds=0.5)
        assert [j.job_id for j in jobs] == [mine]
        assert wait_finished(mine, timeout=5) == "COMPLETED"  # waited for, not cancelled
        for job in (other_workflow, not_the_plugins):
            assert slurm.job_alive(job), job  # never touched
        assert slurm.settle_earlier_jobs(theirs, "mlepipe", "cancel", poll_seconds=0.5)
        assert wait_finished(other_workflow, timeout=30) == "CANCELLED"
        assert slurm.job_alive(not_the_plugins)
    finally:
        subprocess.run(["scancel", other_workflow, not_the_plugins], check=False)
