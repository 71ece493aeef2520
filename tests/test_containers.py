"""The container runner against a real Podman engine (docker SDK): the bubblewrap runner's
contract holds, hostile agents fail as they do there, and nothing is left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from podman_engine import BASE_IMAGE

from mlepipe.harness.container import LABEL_HARNESS, ContainerRunner
from mlepipe.harness.runner import Limits, Mount, SandboxUnavailable

pytestmark = pytest.mark.sandbox

AGENTS = Path(__file__).parent / "agents_adversarial"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("id,label\n1,0\n")
    (tmp_path / "submission").mkdir()
    return tmp_path


def _run(engine, run_dir: Path, argv: list[str], limits: Limits | None = None, mounts=()):
    runner = ContainerRunner(engine=engine.url, image=BASE_IMAGE, run_label="test")
    result = runner.run(
        argv,
        mounts=[
            Mount(AGENTS, "/agent"),
            Mount(run_dir / "data", "/home/data"),
            Mount(run_dir / "submission", "/home/submission", writable=True),
            *mounts,
        ],
        env={"SEED": "3"},
        limits=limits or Limits(wall_seconds=60),
        workdir="/home/submission",
        stdout=run_dir / "stdout.txt",
        stderr=run_dir / "stderr.txt",
    )
    return result, (run_dir / "stdout.txt").read_text(), (run_dir / "stderr.txt").read_text()


def _agent(script: str, *args: str) -> list[str]:
    return ["python", f"/agent/{script}", *args]


def test_unreachable_engine_says_how_to_start_one(tmp_path, run_dir):
    runner = ContainerRunner(engine=f"unix://{tmp_path}/none.sock", image=BASE_IMAGE)
    with pytest.raises(SandboxUnavailable, match="container_engine"):
        runner.run(["true"], mounts=[], env={}, limits=Limits(wall_seconds=5), workdir="/",
                   stdout=run_dir / "o", stderr=run_dir / "e")  # fmt: skip


def test_missing_image_is_named(podman_engine, run_dir):
    runner = ContainerRunner(engine=podman_engine.url, image="localhost/no-such:image")
    with pytest.raises(SandboxUnavailable, match="no-such:image.*no registry"):
        runner.run(["true"], mounts=[], env={}, limits=Limits(wall_seconds=5), workdir="/",
                   stdout=run_dir / "o", stderr=run_dir / "e")  # fmt: skip


def test_exit_code_output_user_and_environment(podman_engine, run_dir, monkeypatch):
    monkeypatch.setenv("MLEPIPE_TEST_SECRET", "host-only")
    code = "import json, os, pandas; print(json.dumps([os.getuid(), dict(os.environ)]))"
    result, out, err = _run(
        podman_engine, run_dir, ["sh", "-c", f"python -c '{code}'; echo to-stderr >&2; exit 7"]
    )
    uid, env = json.loads(out)
    assert (result.runner, result.exit_code, result.signal) == ("container", 7, None), err
    assert uid == 1000 and err == "to-stderr\n"
    assert env["SEED"] == "3" and env["HOME"] == "/home/sandbox"
    assert "MLEPIPE_TEST_SECRET" not in env
    assert result.enforced["network"] == "container (network none)"
    assert result.identity["image_id"].startswith("sha256:")
    assert any(d.startswith("localhost/mlepipe-test-base@sha256:")
               for d in result.identity["image_digests"])  # fmt: skip


def test_writable_mount_takes_the_submission(podman_engine, run_dir):
    result, _, err = _run(
        podman_engine, run_dir, ["sh", "-c", "echo 1,0 > /home/submission/submission.csv"]
    )
    assert result.exit_code == 0, err
    assert (run_dir / "submission" / "submission.csv").read_text() == "1,0\n"


def test_private_host_files_are_invisible(podman_engine, run_dir, tmp_path_factory):
    private = tmp_path_factory.mktemp("private")
    (private / "answers.csv").write_text("id,label\n1,SECRET-ANSWER\n")
    paths = [str(private / "answers.csv"), str(private), "/work/shared", "/etc/shadow"]
    result, out, err = _run(podman_engine, run_dir, _agent("read_private.py", *paths))
    report = json.loads(out)
    assert result.exit_code == 0, err
    assert "SECRET-ANSWER" not in out
    for path in paths:
        assert report["outcome"][path] == "error: FileNotFoundError", path
    assert report["visible_pids"] < 10


def test_network_is_unreachable(podman_engine, run_dir):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = str(server.getsockname()[1])
    result, out, _ = _run(podman_engine, run_dir, _agent("net_connect.py", "127.0.0.1", port))
    report = json.loads(out)
    assert report["connect"].startswith("error") and report["dns"].startswith("error")
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()


def test_writes_outside_writable_mounts_fail(podman_engine, run_dir, tmp_path_factory):
    private = tmp_path_factory.mktemp("host_private")
    targets = ["/home/data", "/home/data/train.csv", "/usr", "/usr/bin", "/etc/passwd",
               sys.prefix, "/", str(private), "/home/submission"]  # fmt: skip
    result, out, err = _run(podman_engine, run_dir, _agent("write_outside.py", *targets))
    outcome = json.loads(out)
    assert result.exit_code == 0, err
    assert outcome.pop("/home/submission") == "written"
    assert all(v.startswith("error") for v in outcome.values()), outcome
    assert (run_dir / "data" / "train.csv").read_text() == "id,label\n1,0\n"
    assert list(private.iterdir()) == []


def test_fork_bomb_is_stopped_by_the_pids_limit(podman_engine, run_dir):
    result, out, _ = _run(
        podman_engine, run_dir, _agent("fork_bomb.py", "300"), Limits(wall_seconds=60, pids=40)
    )
    report = json.loads(out)
    assert result.enforced["pids"] == "container"
    assert report["failures"] > 0 and report["started"] < 40


def test_memory_hog_is_oom_killed_and_recorded(podman_engine, run_dir):
    result, out, _ = _run(
        podman_engine, run_dir, _agent("memory_hog.py", "1500"),
        Limits(wall_seconds=60, memory_mb=200),
    )  # fmt: skip
    assert result.enforced["memory_mb"] == "container"
    assert result.oom_killed
    assert result.signal == signal.SIGKILL and result.exit_code is None
    assert "survived" not in out


def test_plain_failure_with_exit_137_is_no_oom(podman_engine, run_dir):
    result, _, _ = _run(
        podman_engine, run_dir, ["sh", "-c", "exit 137"], Limits(wall_seconds=60, memory_mb=200)
    )
    assert result.signal == signal.SIGKILL and not result.oom_killed


def test_cpu_share_is_held(podman_engine, run_dir):
    result, out, _ = _run(
        podman_engine, run_dir, _agent("busy.py", "1.5"), Limits(wall_seconds=60, cpus=0.5)
    )
    report = json.loads(out)
    assert result.enforced["cpus"] == "container"
    assert report["cpu_seconds"] / report["wall"] < 0.7


def test_time_limit_stops_the_container_and_removes_it(podman_engine, run_dir):
    result, out, _ = _run(
        podman_engine, run_dir, _agent("sleeper.py", "marker"),
        Limits(wall_seconds=2, grace_seconds=0.5),
    )  # fmt: skip
    assert result.timed_out and "started" in out
    assert 2 <= result.wall_seconds < 10
    assert podman_engine.containers() == []


def test_disk_quota_stops_a_filler(podman_engine, run_dir):
    code = run_dir / "code"
    result, out, _ = _run(
        podman_engine, run_dir, _agent("disk_filler.py", "400"),
        Limits(wall_seconds=60, disk_mb=50), mounts=[Mount(code, "/home/code", writable=True)],
    )  # fmt: skip
    # The single file is refused by the kernel at the quota (RLIMIT_FSIZE inside the container),
    # the many small ones by the harness's scan, as under bubblewrap.
    assert "single file refused" in out and (code / "huge.bin").stat().st_size == 50 * 2**20
    assert result.disk_exceeded and result.disk_exceeded["quota_mb"] == 50
    used = sum(p.stat().st_size for p in code.iterdir())
    assert 50 * 2**20 < used < 50 * 2**20 + 2**30  # over, by at most what a second can write


def test_output_cap_holds(podman_engine, run_dir):
    result, _, _ = _run(
        podman_engine, run_dir, ["sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x"],
        Limits(wall_seconds=60, output_mb=1),
    )  # fmt: skip
    assert (run_dir / "stdout.txt").stat().st_size <= 1024 * 1024
    assert result.output_dropped["stdout"] > 0


def test_a_killed_harness_leaves_no_container(podman_engine, run_dir, tmp_path):
    """SIGKILL the harness mid-run: its attach process removes the container; one whose
    attach process died too is removed by label by the next run."""
    script = tmp_path / "harness.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\n"
        "from mlepipe.harness.container import ContainerRunner\n"
        "from mlepipe.harness.runner import Limits\n"
        f"r = ContainerRunner(engine={podman_engine.url!r}, image={BASE_IMAGE!r})\n"
        "r.run(['sleep', '600'], mounts=[], env={}, limits=Limits(wall_seconds=600),\n"
        f"      workdir='/', stdout=Path({str(tmp_path / 'o')!r}),\n"
        f"      stderr=Path({str(tmp_path / 'e')!r}))\n"
    )
    harness = subprocess.Popen([sys.executable, str(script)], env={**os.environ})
    deadline = time.monotonic() + 30
    while not [c for c in podman_engine.containers() if c.status == "running"]:
        assert time.monotonic() < deadline, "the container never started"
        time.sleep(0.1)
    harness.kill()
    harness.wait()
    deadline = time.monotonic() + 20
    while podman_engine.containers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert podman_engine.containers() == []


def test_orphans_of_dead_harnesses_are_removed_by_the_next_run(podman_engine, run_dir):
    client = podman_engine.client()
    # A container as a killed pipeline (harness and attach process gone) leaves it.
    orphan = client.containers.create(
        BASE_IMAGE, ["sleep", "600"], labels={LABEL_HARNESS: f"{socket.gethostname()}:1:0"},
        volumes={"/usr": {"bind": "/usr", "mode": "ro"}},
    )  # fmt: skip
    orphan.start()
    result, _, _ = _run(podman_engine, run_dir, ["true"])
    assert result.exit_code == 0
    assert f"removed containers of dead runs: {orphan.name}" in result.notes
    assert podman_engine.containers() == []


def test_privileged_agent_is_refused_unless_the_experiment_allows_it(tmp_path):
    from mlepipe.agents.config import Agent
    from mlepipe.harness.run import _runner_options

    agent = Agent("boxed", {"kind": "command", "command": "true", "image": BASE_IMAGE,
                            "privileged": True}, tmp_path)  # fmt: skip
    with pytest.raises(SandboxUnavailable, match="allow_privileged: true"):
        _runner_options("container", agent, "key", None, allow_privileged=False)
    options = _runner_options("container", agent, "key", None, allow_privileged=True)
    assert options["privileged"] and options["image"] == BASE_IMAGE


def test_a_file_bound_over_one_of_the_data_mount_is_the_one_the_agent_reads(
    podman_engine, run_dir, tmp_path_factory
):
    # How another task text is shown over the shared prepared description.md.
    (run_dir / "data" / "description.md").write_text("own text\n")
    text = tmp_path_factory.mktemp("text") / "description.md"
    text.write_text("the checkout's text\n")
    script = "cat /home/data/description.md; ls /home/data; echo x > /home/data/description.md"
    result, out, err = _run(
        podman_engine, run_dir, ["sh", "-c", script],
        mounts=[Mount(text, "/home/data/description.md")],
    )  # fmt: skip
    assert out.split("\n")[:3] == ["the checkout's text", "description.md", "train.csv"], out
    assert result.exit_code != 0 and "Read-only file system" in err
    assert text.read_text() == "the checkout's text\n"
    assert (run_dir / "data" / "description.md").read_text() == "own text\n"
