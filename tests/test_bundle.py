"""The replay bundle through `snakemake` on real Kaggle data (../shared/kaggle-mirror) with
MLE-bench's official thresholds: an experiment is run, exported, and replayed in a fresh folder
with a fresh data folder; the rebuilt reports must equal the original ones byte for byte, and no
agent may run. Skipped, with a message, where the reference folder is absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pandas as pd
import pytest
import yaml

from mlepipe.bundle import (
    BundleError,
    _agent_files,
    checksum_differences,
    grading_changes,
    missing_runs,
    stale_runs,
    unpack,
)
from pipeline import REPO, Workflow, needs_bubblewrap_and_mirror

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = needs_bubblewrap_and_mirror()

COMPETITION = "spaceship-titanic"
AGENTS = ["dummy", "baseline"]
SEEDS = [0, 1]
HARDWARE = {"cpu-small": {"cpus": 1, "memory_gb": 3, "time_limit": "5m"}}


def mlepipe(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "mlepipe", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=1200,
    )  # fmt: skip


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiment")
    config = {
        "competitions": [COMPETITION], "agents": AGENTS, "hardware": ["cpu-small"],
        "seeds": SEEDS, "data_dir": "data", "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
    }  # fmt: skip
    wf = Workflow(root, config, hardware=HARDWARE)
    wf.snakemake(timeout=1200)
    bundle = root / "experiment.tar.gz"
    proc = mlepipe("export-bundle", "--results", "results", "--out", str(bundle), cwd=root)
    assert proc.returncode == 0, proc.stderr
    return wf, bundle


@pytest.fixture(scope="module")
def replayed(experiment, tmp_path_factory):
    _, bundle = experiment
    folder = tmp_path_factory.mktemp("elsewhere") / "replay"
    proc = mlepipe(
        "replay-bundle", str(bundle), "--dir", str(folder),
        "--mirror", str(SHARED / "kaggle-mirror"), cwd=folder.parent,
    )  # fmt: skip
    return folder, proc


def test_the_bundle_holds_the_experiment(experiment):
    wf, bundle = experiment
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("bundle/manifest.json"))
        thresholds = pd.read_csv(tar.extractfile("bundle/leaderboards/thresholds.csv"))
    runs = wf.runs()
    assert len(manifest["runs"]) == len(runs) == len(AGENTS) * len(SEEDS)
    assert manifest["experiment"]["seeds"] == SEEDS
    assert manifest["experiment"]["competitions"] == [COMPETITION]
    for run in manifest["runs"]:
        key = (run["agent"], run["hardware"], run["competition_id"], run["seed"])
        assert run["agent_version"] == runs[key]["agent_version"]
        assert run["run_id"] == runs[key]["run_id"]
        base = f"bundle/results/{run['path']}"
        assert {f"{base}/run.json", f"{base}/submission.csv", f"{base}/logs/agent.stderr"} <= names
        assert not any(n.startswith((f"{base}/home/", f"{base}/submission/")) for n in names)
    # The thresholds the grades used: MLE-bench's official row for the competition.
    official = pd.read_csv(SHARED / "mlebench-reference" / "thresholds.csv")
    row = official[official.competition_id == COMPETITION].iloc[0]
    assert thresholds.iloc[0]["gold_threshold"] == row["gold_threshold"]
    assert thresholds.iloc[0]["bronze_threshold"] == row["bronze_threshold"]
    checksums = yaml.safe_load(
        (wf.results.parent / "data" / COMPETITION / "checksums.yaml").read_text()
    )
    assert manifest["data_checksums"][COMPETITION]["private"] == checksums["private"]
    assert "bundle/Snakefile" in names and "bundle/config/agents.yaml" in names
    assert not any("/data/" in n and n.endswith(".csv") and "prepared" in n for n in names)


def test_a_replay_rebuilds_identical_reports_without_running_an_agent(experiment, replayed):
    wf, _ = experiment
    folder, proc = replayed
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "differs" not in proc.stdout
    original, rebuilt = wf.results / "reports", folder / "results" / "reports"
    for name in ("summary.csv", "per_competition.csv", "by_category.csv", "summary.md",
                 "per_competition.md", "leaderboard/leaderboard.md"):  # fmt: skip
        assert (rebuilt / name).read_bytes() == (original / name).read_bytes(), name
    table = f"competitions/{COMPETITION}.csv"
    assert (folder / "results" / table).read_bytes() == (wf.results / table).read_bytes()
    # The data was prepared afresh from the mirror, in the replay's own data folder.
    assert (folder / "data" / COMPETITION / "prepared" / "private").is_dir()
    # No agent ran: the runs are the bundle's, and Snakemake never started run_agent.
    log = (folder / "replay.log").read_text()
    assert "rule run_agent" not in log and "rule grade_run" in log
    for key, run in wf.runs().items():
        agent, hardware, competition, seed = key
        path = folder / "results" / "runs" / agent / hardware / competition / str(seed)
        assert json.loads((path / "run.json").read_text()) == run
    # Every run was graded again here: same fields but the time of grading.
    for key, grade in wf.grades().items():
        agent, hardware, competition, seed = key
        path = folder / "results" / "grades" / agent / hardware / competition / f"{seed}.json"
        again = json.loads(path.read_text())
        assert again["created_at"] != grade["created_at"]
        assert again["thresholds_source"] != grade["thresholds_source"]
        for name in ("created_at", "thresholds_source"):
            again.pop(name), grade.pop(name)
        assert again == grade, key


def test_a_replay_refuses_runs_of_another_agent_version(experiment, tmp_path):
    _, bundle = experiment
    manifest = unpack(bundle, tmp_path / "unpacked")
    assert stale_runs(tmp_path / "unpacked", manifest) == []
    agents_file = tmp_path / "unpacked" / "config" / "agents.yaml"
    agents = yaml.safe_load(agents_file.read_text())
    agents["dummy"]["description"] = "edited"
    agents_file.write_text(yaml.safe_dump(agents))
    stale = stale_runs(tmp_path / "unpacked", manifest)
    assert len(stale) == len(SEEDS) and all("dummy" in s and "agent version" in s for s in stale)
    # Repacked, the whole replay stops before Snakemake starts.
    repacked = tmp_path / "edited.tar.gz"
    with tarfile.open(repacked, "w:gz") as tar:
        tar.add(tmp_path / "unpacked", arcname="bundle")
    proc = mlepipe("replay-bundle", str(repacked), "--dir", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2 and "would have to run again" in proc.stderr
    assert not (tmp_path / "r" / "results" / "grades").exists()


def test_a_replay_needs_a_fresh_folder(experiment, tmp_path):
    _, bundle = experiment
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "something").write_text("x")
    with pytest.raises(BundleError, match="not empty"):
        unpack(bundle, tmp_path / "busy")


def test_grading_code_other_than_the_bundles_is_named():
    from mlepipe.pipeline import grading_digest
    from mlepipe.registry import Registry

    current = grading_digest(Registry().get(COMPETITION))
    assert grading_changes({"grading_versions": {COMPETITION: current}}) == []
    (note,) = grading_changes({"grading_versions": {COMPETITION: "0" * 16}})
    assert COMPETITION in note and current in note


def test_the_experiments_disk_use_and_cost_chart(experiment):
    from test_report_charts import marks, svg_texts

    wf, _ = experiment
    runs, grades = wf.runs(), wf.grades()
    for key, run in runs.items():
        used = run["metering"]
        # The writable mounts hold at least the logs and the submission at the end.
        assert 0 < used["disk_used_end_mb"] <= used["disk_used_peak_mb"], key
        assert grades[key]["disk_used_peak_mb"] == used["disk_used_peak_mb"]
        # The agent wrote its submission (whole pages) at least.
        folder = wf.results / "runs" / key[0] / key[1] / key[2] / str(key[3])
        written = (folder / "submission.csv").stat().st_size / 2**20
        assert written <= used["disk_written_mb"], key
        assert grades[key]["disk_written_mb"] == used["disk_written_mb"]
    summary = pd.read_csv(wf.results / "reports" / "summary.csv")
    for agent in AGENTS:
        row = summary[(summary.agent == agent) & (summary.split == "all")].iloc[0]
        peaks = [r["metering"]["disk_used_peak_mb"] for k, r in runs.items() if k[0] == agent]
        assert row["disk_used_peak_mb_max"] == pytest.approx(max(peaks))
        written = [r["metering"]["disk_written_mb"] for k, r in runs.items() if k[0] == agent]
        assert row["disk_written_mb"] == pytest.approx(sum(written), abs=1e-3)
    # Neither agent has a gateway: no USD panel, a CPU-hours point per agent.
    svg = wf.results / "reports" / "medal_rate_vs_cost.svg"
    texts = svg_texts(svg)
    assert "mean CPU-hours per run" in texts
    assert "mean model cost per run (USD, from the gateway)" not in texts
    assert marks(svg, "symbol") == len(AGENTS)
    assert (wf.results / "reports" / "medal_rate_vs_cost.html").is_file()


def test_a_replay_names_runs_missing_from_the_bundle(experiment, tmp_path):
    _, bundle = experiment
    unpack(bundle, tmp_path / "unpacked")
    assert missing_runs(tmp_path / "unpacked") == []
    (tmp_path / "unpacked" / "results" / "runs" / "dummy" / "cpu-small" / COMPETITION / "1"
     / "run.json").unlink()  # fmt: skip
    assert missing_runs(tmp_path / "unpacked") == [f"runs/dummy/cpu-small/{COMPETITION}/1"]


def test_data_prepared_otherwise_than_the_bundles_is_named(replayed):
    folder, _ = replayed
    manifest = json.loads((folder / "manifest.json").read_text())
    assert checksum_differences(folder, manifest) == []
    answers = manifest["data_checksums"][COMPETITION]["private"]
    answers[next(iter(answers))] = "0" * 32
    (difference,) = checksum_differences(folder, manifest)
    assert COMPETITION in difference and "private" in difference


def test_an_agents_files_travel_to_the_same_place_relative_to_the_agents_file(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "agents.yaml").write_text(
        "mine:\n  kind: command\n  command: python /home/agent/run.py\n"
        "  code_dir: ../agents/mine\n  requirements: ../agents/mine/requirements.txt\n"
        "far:\n  kind: command\n  command: x\n  code_dir: /opt/far-agent\n"
    )
    code = tmp_path / "agents" / "mine"
    (code / "__pycache__").mkdir(parents=True)
    (code / "run.py").write_text("print(1)\n")
    (code / "requirements.txt").write_text("numpy\n")
    (code / "__pycache__" / "run.pyc").write_bytes(b"x")
    files, notes = _agent_files(config / "agents.yaml", {"mine", "far"})
    assert sorted(name for _, name in files) == [
        "agents/mine/requirements.txt", "agents/mine/requirements.txt", "agents/mine/run.py",
    ]  # fmt: skip
    (note,) = notes
    assert "far" in note and "/opt/far-agent" in note
