"""MLE-bench's agents unchanged, through `snakemake` on a real competition
(../shared/kaggle-mirror, spaceship-titanic, MLE-bench's thresholds): an agent folder in
MLE-bench's layout (tests/agents_mlebench/probe) is built on a local stand-in for
`mlebench-env`, started as MLE-bench starts it, validates submissions through
/home/validate_submission.sh and is graded."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from podman_engine import BASE_IMAGE

from pipeline import REPO, Workflow

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

SHARED = REPO.parent / "shared"
COMPETITION = "spaceship-titanic"
FOLDER = Path(__file__).with_name("agents_mlebench") / "probe"
SECRET = "probe-secret-5f1c9e"  # the host variable's value: it must reach start.sh only


@pytest.fixture(scope="module")
def wf(tmp_path_factory, podman_engine):
    if not (SHARED / "kaggle-mirror" / f"{COMPETITION}.zip").is_file():
        pytest.skip(f"no {COMPETITION} in the Kaggle mirror at {SHARED / 'kaggle-mirror'}")
    # The agent's Dockerfile starts FROM mlebench-env, as MLE-bench's do.
    podman_engine.podman("tag", BASE_IMAGE, "localhost/mlebench-env:latest")
    root = tmp_path_factory.mktemp("mlebench")
    shutil.copytree(FOLDER, root / "agents" / "probe")
    agents = {
        "probe": {"kind": "mlebench", "folder": "../agents/probe"},
        # The secret is the gateway's API key here: the container gets the gateway's token.
        "probe-gateway": {
            "kind": "mlebench", "folder": "../agents/probe",
            "gateway": {"upstream": "http://127.0.0.1:9/v1", "models": ["probe-model"],
                        "key_env": "MLEPIPE_PROBE_SECRET"},
        },
    }  # fmt: skip
    config = {
        "competitions": [COMPETITION], "agents": list(agents), "hardware": ["cpu-small"],
        "seeds": [0], "data_dir": str(root / "data"), "mirror": str(SHARED / "kaggle-mirror"),
        "leaderboards": str(SHARED / "mlebench-reference" / "thresholds.csv"),
        "sandbox": "container", "container_engine": podman_engine.url,
    }  # fmt: skip
    hardware = {"cpu-small": {"cpus": 1, "memory_gb": 2, "time_limit": "5m"}}
    workflow = Workflow(root, config, agents=agents, hardware=hardware, own_code=True)
    workflow.snakemake(timeout=900, env={"MLEPIPE_PROBE_SECRET": SECRET})
    return workflow


def _run_dir(wf, agent: str = "probe") -> Path:
    return wf.results / "runs" / agent / "cpu-small" / COMPETITION / "0"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sections(report: str) -> dict[str, str]:
    parts = report.split("--- ")
    return {p.split("\n", 1)[0]: p.split("\n", 1)[1].strip() for p in parts[1:]}


def test_agent_runs_as_mlebench_runs_it_and_is_graded(wf, podman_engine):
    run = wf.runs()[("probe", "cpu-small", COMPETITION, 0)]
    assert run["status"] == "ok" and run["runner"] == "container", run["sandbox_notes"]
    assert run["runner_identity"]["image_id"] == (
        (wf.results / "images" / "probe.id").read_text().strip()
    )
    report = (_run_dir(wf) / "logs" / "probe.txt").read_text()
    head = report.split("--- ")[0].splitlines()
    # kwargs_type argparse: `--key value` after start.sh, in config order.
    assert "args: --steps 3 --model.name probe-model" in head
    assert f"competition: {COMPETITION}" in head
    assert "dirs: /home/submission /home/logs /home/code /home/agent" in head
    assert "limit: 60" in head and "cwd: /home" in head
    assert f"secret-sha256: {_sha(SECRET)}" in head
    for path in ("/home/data/description.md", "/home/instructions.txt",
                 "/home/validate_submission.sh", "/home/agent/start.sh",
                 "/home/agent/config.yaml"):  # fmt: skip
        assert f"present: {path}" in head, report
    assert "agent dir writable" in head and "data read-only" in head
    assert "private exists" not in head

    answers = _sections(report)
    assert answers["usage"] == "Usage: /home/validate_submission.sh <submission_file>\nexit 1"
    assert answers["missing"] == "File /home/code/none.csv does not exist.\nexit 1"
    bad, status = answers["bad"].rsplit("\n", 1)
    assert status == "exit 0"  # the endpoint answers; the verdict is in its JSON
    verdict = json.loads(bad)["result"]
    assert verdict.startswith(
        "Submission invalid! The attempt to grade the submission has resulted in the "
        "following error message:\n"
    ), verdict
    assert "Transported" in verdict  # our validator names the missing column
    assert answers["good"] == '{"result":"Submission is valid."}\nexit 0'

    grade = wf.grades()[("probe", "cpu-small", COMPETITION, 0)]
    assert grade["valid_submission"] and grade["run_status"] == "ok"
    # The sample submission says False everywhere: about half right, far below any medal.
    assert 0.3 < grade["score"] < 0.7 and not grade["any_medal"]
    # Metered in the cgroup the engine started the container under.
    assert run["metering"]["cpu_seconds"] > 0 and run["metering"]["peak_memory_mb"] > 1
    assert podman_engine.containers() == []


def test_the_secret_stays_out_of_what_the_harness_writes(wf):
    run = wf.runs()[("probe", "cpu-small", COMPETITION, 0)]
    assert run["env_passed_through"] == ["MLEPIPE_PROBE_SECRET"]  # the name only
    # Only what the agent without a gateway wrote holds it (as a digest, but it could).
    agent_written = {_run_dir(wf) / "logs" / n for n in ("probe.txt", "files.txt")}
    written = [p for p in wf.results.rglob("*") if p.is_file() and p not in agent_written]
    assert any(p.name == "run.json" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path


def test_the_gateways_key_never_enters_the_container(wf):
    run = wf.runs()[("probe-gateway", "cpu-small", COMPETITION, 0)]
    assert run["status"] == "ok", run["sandbox_notes"]
    assert run["env_passed_through"] == []  # the key stays with the gateway
    head = (_run_dir(wf, "probe-gateway") / "logs" / "probe.txt").read_text().split("--- ")[0]
    lines = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    # The config's `${{ secrets.MLEPIPE_PROBE_SECRET }}` became the gateway's per-run token,
    # the same the agent finds as its OpenAI key.
    assert lines["secret-sha256"] != _sha(SECRET) and lines["secret-sha256"] != _sha("")
    assert lines["secret-sha256"] == lines["openai-key-sha256"]
    assert wf.grades()[("probe-gateway", "cpu-small", COMPETITION, 0)]["valid_submission"]


def test_no_private_file_is_visible_inside(wf):
    private = wf.root / "data" / COMPETITION / "prepared" / "private"
    public = wf.root / "data" / COMPETITION / "prepared" / "public"
    private_files = {(p.stat().st_size, p.name) for p in private.rglob("*") if p.is_file()}
    assert private_files
    seen = []
    for line in (_run_dir(wf) / "logs" / "files.txt").read_text().splitlines():
        size, path = line.split(" ", 1)
        seen.append(path)
        assert "private" not in Path(path).parts and str(wf.root) not in path, path
        if (int(size), Path(path).name) in private_files:
            # Only a public file of the same name and size may look like one (test.csv).
            assert path.startswith("/home/data/"), path
            inside = public / Path(path).relative_to("/home/data")
            assert inside.read_bytes() != (private / Path(path).name).read_bytes(), path
    assert "/home/data/description.md" in seen
