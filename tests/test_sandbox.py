"""The sandbox holds: every escape attempt of an adversarial agent fails and is recorded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mlepipe.harness import cgroups
from mlepipe.harness.bubblewrap import bwrap_command
from mlepipe.harness.runner import (
    Command,
    Limits,
    Mount,
    SandboxError,
    SandboxUnavailable,
)
from mlepipe.harness.runners import check_runner, get_runner

pytestmark = pytest.mark.sandbox

AGENTS = Path(__file__).parent / "agents_adversarial"
REPO = Path(__file__).resolve().parents[1]
HAVE_BWRAP = shutil.which("bwrap") is not None
needs_bwrap = pytest.mark.skipif(
    not HAVE_BWRAP, reason="bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
)


def _cgroup_limits_work() -> bool:
    run = cgroups.create_run_cgroup(64, 0.5, 16)
    try:
        return all(run.enforced.values())
    finally:
        run.remove()


HAVE_CGROUPS = _cgroup_limits_work()
needs_cgroups = pytest.mark.skipif(
    not HAVE_CGROUPS,
    reason="cgroup memory/cpu/pids limits cannot be set here (needs root "
    "with cgroup v1 controllers or delegated v2 controllers)",
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("id,label\n1,0\n")
    (tmp_path / "submission").mkdir()
    return tmp_path


def _run(
    run_dir: Path,
    argv: list[str],
    limits: Limits | None = None,
    runner="bubblewrap",
    extra_mounts=(),
    env=None,
):
    mounts = [
        Mount(AGENTS, "/agent"),
        Mount(run_dir / "data", "/home/data"),
        Mount(run_dir / "submission", "/home/submission", writable=True),
        *extra_mounts,
    ]
    result = get_runner(runner).run(
        argv,
        mounts=mounts,
        env=env or {},
        limits=limits or Limits(wall_seconds=60),
        workdir="/home/submission" if runner == "bubblewrap" else str(run_dir / "submission"),
        stdout=run_dir / "stdout.txt",
        stderr=run_dir / "stderr.txt",
    )
    return result, (run_dir / "stdout.txt").read_text(), (run_dir / "stderr.txt").read_text()


def _agent(script: str, *args: str, runner: str = "bubblewrap") -> list[str]:
    folder = "/agent" if runner == "bubblewrap" else str(AGENTS)
    return ["python", f"{folder}/{script}", *args]


def _processes_with(marker: str) -> list[int]:
    """Host PIDs of live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_until_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# --- runner availability ----------------------------------------------------------------------


def test_missing_bwrap_says_how_to_install_or_opt_out(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable) as info:
        check_runner("bubblewrap")
    assert "apt-get install bubblewrap" in str(info.value)
    assert "sandbox: none" in str(info.value)


def test_unknown_runner_is_refused():
    with pytest.raises(SandboxUnavailable, match="bubblewrap, container, apptainer, none"):
        check_runner("docker-maybe")


# --- ordinary runs ------------------------------------------------------------------------------


@needs_bwrap
def test_agent_that_exits_at_once_has_its_exit_code_recorded(run_dir):
    result, _, _ = _run(run_dir, ["sh", "-c", "exit 7"], Limits(wall_seconds=30))
    assert result.runner == "bubblewrap"
    assert (result.exit_code, result.signal) == (7, None)
    assert not result.timed_out and not result.oom_killed
    assert result.enforced["wall_seconds"] == "harness"
    assert result.enforced["network"] == "namespace"


@needs_bwrap
def test_default_python_env_imports_pandas_and_sklearn_as_uid_1000(run_dir):
    code = "import getpass, os, pandas, sklearn; print(getpass.getuser(), os.getuid())"
    result, out, err = _run(run_dir, ["python", "-c", code])
    assert result.exit_code == 0, err
    assert out.split() == ["sandbox", "1000"]


@needs_bwrap
def test_environment_is_cleared_except_what_is_given(run_dir, monkeypatch):
    monkeypatch.setenv("MLEPIPE_TEST_SECRET", "host-only")
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    result, out, _ = _run(run_dir, ["python", "-c", code], env={"SEED": "3"})
    seen = json.loads(out)
    assert result.exit_code == 0
    assert seen["SEED"] == "3" and seen["HOME"] == "/home/sandbox"
    assert "MLEPIPE_TEST_SECRET" not in seen
    assert seen["CUDA_VISIBLE_DEVICES"] == ""


@needs_bwrap
def test_writable_mount_is_writable_and_files_land_on_the_host(run_dir):
    result, _, _ = _run(run_dir, ["sh", "-c", "echo 1,0 > /home/submission/submission.csv"])
    assert result.exit_code == 0
    assert (run_dir / "submission" / "submission.csv").read_text() == "1,0\n"


@needs_bwrap
def test_writable_mount_owned_by_someone_else_is_refused(run_dir):
    foreign = run_dir / "foreign"
    foreign.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to give a folder to another user")
    os.chown(foreign, 4242, 4242)
    with pytest.raises(SandboxError, match="belongs to uid 4242"):
        _run(run_dir, ["true"], extra_mounts=[Mount(foreign, "/home/foreign", writable=True)])


def test_mount_target_inside_usr_is_refused(run_dir):
    with pytest.raises(SandboxError, match="choose another target"):
        _run(run_dir, ["true"], runner="none", extra_mounts=[Mount(run_dir, "/usr/data")])


# --- escape attempts -----------------------------------------------------------------------------


@needs_bwrap
def test_private_host_files_are_invisible(run_dir, tmp_path_factory):
    private = tmp_path_factory.mktemp("private")
    (private / "answers.csv").write_text("id,label\n1,SECRET-ANSWER\n")
    paths = [
        str(private / "answers.csv"),
        str(private),
        "/root",
        "/work/shared",
        "/etc/shadow",
        str(REPO / "pyproject.toml"),
        str(REPO / "tests"),
    ]
    result, out, _ = _run(run_dir, _agent("read_private.py", *paths))
    report = json.loads(out)
    assert result.exit_code == 0
    assert "SECRET-ANSWER" not in out
    assert report["outcome"][str(private / "answers.csv")] == "error: FileNotFoundError"
    assert report["outcome"]["/etc/shadow"] == "error: FileNotFoundError"
    assert report["outcome"][str(REPO / "pyproject.toml")] == "error: FileNotFoundError"
    # /root holds only the Python installation (.pyenv) when that lives there, nothing else.
    assert report["outcome"]["/root"] in ("error: FileNotFoundError", "listed: .pyenv")
    assert report["outcome"]["/work/shared"] == "error: FileNotFoundError"
    assert report["outcome"][str(REPO / "tests")] == "error: FileNotFoundError"
    assert report["visible_pids"] < 10  # only the sandbox's own processes


@pytest.fixture
def host_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    yield server
    server.close()


def _accepted(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@needs_bwrap
def test_network_is_unreachable_from_the_sandbox(run_dir, host_server):
    port = str(host_server.getsockname()[1])
    result, out, _ = _run(run_dir, _agent("net_connect.py", "127.0.0.1", port))
    report = json.loads(out)
    assert result.exit_code == 0
    assert report["connect"].startswith("error")
    assert report["dns"].startswith("error")
    assert not _accepted(host_server)


def test_same_network_probe_connects_without_sandbox(run_dir, host_server):
    # The control for the test above: the probe does reach the server when unsandboxed.
    port = str(host_server.getsockname()[1])
    result, out, _ = _run(
        run_dir, _agent("net_connect.py", "127.0.0.1", port, runner="none"), runner="none"
    )
    assert result.runner == "none"
    assert json.loads(out)["connect"] == "connected"
    assert _accepted(host_server)


@needs_bwrap
def test_writes_outside_writable_mounts_fail(run_dir, tmp_path_factory):
    private = tmp_path_factory.mktemp("host_private")
    targets = [
        "/home/data",
        "/home/data/train.csv",
        "/usr",
        "/usr/bin",
        "/etc/passwd",
        sys.prefix,
        "/",
        str(private),
        "/home/submission",
    ]
    result, out, _ = _run(run_dir, _agent("write_outside.py", *targets))
    outcome = json.loads(out)
    assert result.exit_code == 0
    assert outcome.pop("/home/submission") == "written"  # the control: this one may be written
    assert all(v.startswith("error") for v in outcome.values()), outcome
    assert (run_dir / "data" / "train.csv").read_text() == "id,label\n1,0\n"
    assert sorted(p.name for p in (run_dir / "data").iterdir()) == ["train.csv"]
    assert list(private.iterdir()) == []
    assert not Path(sys.prefix, "planted.txt").exists()


@needs_bwrap
@needs_cgroups
def test_fork_bomb_is_stopped_by_the_pids_limit(run_dir):
    result, out, _ = _run(run_dir, _agent("fork_bomb.py", "300"), Limits(wall_seconds=60, pids=40))
    report = json.loads(out)
    assert result.enforced["pids"].startswith("cgroup")
    assert report["failures"] > 0 and report["errors"] == ["BlockingIOError"]
    assert report["started"] < 40
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes


@needs_bwrap
@needs_cgroups
def test_memory_hog_is_oom_killed_and_recorded(run_dir):
    result, out, _ = _run(
        run_dir, _agent("memory_hog.py", "1500"), Limits(wall_seconds=60, memory_mb=200)
    )
    assert result.enforced["memory_mb"].startswith("cgroup")
    assert result.oom_killed
    assert result.signal == signal.SIGKILL and result.exit_code is None
    assert "survived" not in out


@needs_bwrap
@needs_cgroups
def test_cpu_quota_and_cpuset_hold_the_agent_to_its_share(run_dir):
    result, out, _ = _run(run_dir, _agent("busy.py", "1.5"), Limits(wall_seconds=60, cpus=0.5))
    report = json.loads(out)
    assert result.enforced["cpus"].startswith("cgroup")
    assert report["cpu_seconds"] / report["wall"] < 0.7
    if len(os.sched_getaffinity(0)) > 1:
        assert report["cpus_allowed"] == 1


@needs_bwrap
def test_time_limit_kills_the_agent_and_its_setsid_grandchild(run_dir):
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    result, out, _ = _run(
        run_dir, _agent("sleeper.py", marker), Limits(wall_seconds=2, grace_seconds=0.5)
    )
    assert result.timed_out
    assert "started" in out
    assert 2 <= result.wall_seconds < 10
    assert _wait_until_gone(marker) == []


@needs_bwrap
def test_time_limit_sends_sigterm_before_sigkill(run_dir):
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    result, _, _ = _run(
        run_dir,
        _agent("sleeper.py", marker, "/home/submission/term.txt"),
        Limits(wall_seconds=1.5, grace_seconds=5),
    )
    assert result.timed_out
    assert (run_dir / "submission" / "term.txt").read_text() == "terminated"
    assert result.wall_seconds < 6  # the agent left on SIGTERM; no need to wait out the grace
    assert _wait_until_gone(marker) == []


@needs_bwrap
def test_killing_the_harness_leaves_nothing_of_the_sandbox(run_dir):
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    harness = subprocess.Popen(
        [sys.executable, str(AGENTS / "harness.py"), str(AGENTS), str(run_dir), marker], env=env
    )
    stdout = run_dir / "stdout.txt"
    try:
        # Wait until the agent runs (bubblewrap arms its die-with-parent during start-up).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            stdout.exists() and "started" in stdout.read_text()
        ):
            time.sleep(0.05)
        assert len(_processes_with(marker)) >= 3, "the sandboxed agent did not start"
        harness.send_signal(signal.SIGKILL)
        harness.wait()
        assert _wait_until_gone(marker) == []
    finally:
        harness.kill()
        harness.wait()
    if HAVE_CGROUPS:
        # The killed harness could not remove its cgroup; the next run's clean-up does.
        leftovers = cgroups.remove_stale_run_cgroups()
        assert any(p.name.startswith(f"{harness.pid}-") for p in leftovers)


def _describe(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
    fields = {k: v.strip() for k, _, v in (line.partition(":") for line in status)}
    return f"{pid} ppid={fields.get('PPid')}: {cmd}"


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@needs_bwrap
@pytest.mark.parametrize("delay_ms", [0, 2, 5, 10, 15, 20, 30, 40])
def test_a_harness_killed_while_bubblewrap_starts_leaves_nothing_running(run_dir, delay_ms):
    # bubblewrap arms its die-with-parent only once the sandbox is set up; a harness killed
    # before that must not leave the agent running unsupervised (3 of 8 did, without the guard).
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    harness = subprocess.Popen(
        [sys.executable, str(AGENTS / "harness.py"), str(AGENTS), str(run_dir), marker], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _children(harness.pid):
            time.sleep(0.0005)  # until the harness has started bubblewrap
        assert _children(harness.pid), "the harness did not start bubblewrap"
        time.sleep(delay_ms / 1000)
        harness.send_signal(signal.SIGKILL)
        harness.wait()
        time.sleep(3)  # long enough for an unsupervised agent to start
        left = _wait_until_gone(marker, seconds=2)
        assert left == [], "still running:\n" + "\n".join(_describe(pid)[-200:] for pid in left)
    finally:
        harness.kill()
        harness.wait()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        cgroups.remove_stale_run_cgroups()


@needs_bwrap
@pytest.mark.parametrize("runner", ["bubblewrap", "none"])
def test_a_run_over_its_disk_quota_is_stopped_and_says_so(run_dir, runner):
    code = run_dir / "code"
    result, out, _ = _run(
        run_dir,
        _agent("disk_filler.py", "200", runner=runner),
        Limits(wall_seconds=60, disk_mb=40),
        runner=runner,
        extra_mounts=[Mount(code, "/home/code", writable=True)],
        env={"CODE_DIR": "/home/code" if runner == "bubblewrap" else str(code)},
    )
    # The single 200 MB file is refused by the kernel at 40 MB; the many small ones by the scan.
    assert "single file refused" in out and (code / "huge.bin").stat().st_size == 40 * 2**20
    assert not result.timed_out and result.wall_seconds < 30
    exceeded = result.disk_exceeded
    assert exceeded and exceeded["quota_mb"] == 40 and exceeded["used_mb"] > 40
    assert result.enforced["disk_mb"]
    used = sum(p.stat().st_size for p in code.iterdir())
    assert 40 * 2**20 < used < 40 * 2**20 + 2**30  # over, by at most what a second can write


@needs_bwrap
def test_output_past_the_cap_is_dropped_and_counted_without_stopping_the_run(run_dir):
    (run_dir / "data" / "sample_submission.csv").write_text("id,label\n1,0\n")
    result, out, err = _run(
        run_dir,
        _agent("loud.py", "12"),
        Limits(wall_seconds=60, output_mb=2),
        env={"DATA_DIR": "/home/data", "SUBMISSION_DIR": "/home/submission"},
    )
    assert result.exit_code == 0 and (run_dir / "submission" / "submission.csv").is_file()
    assert len(out) == len(err) == 2 * 2**20  # the first 2 MB of each stream are kept
    assert result.output_dropped == {"stdout": 10 * 2**20 + 10, "stderr": 10 * 2**20}
    assert any("dropped" in note for note in result.notes)


# --- runner none ----------------------------------------------------------------------------------


def test_runner_none_records_exit_code_and_marks_the_run(run_dir):
    result, out, _ = _run(run_dir, ["sh", "-c", "pwd; exit 3"], runner="none")
    assert result.runner == "none"
    assert (result.exit_code, result.signal) == (3, None)
    assert result.enforced["filesystem"] is None and result.enforced["network"] is None
    assert out.strip() == str(run_dir / "submission")


@needs_cgroups
def test_runner_none_time_limit_also_kills_setsid_grandchild(run_dir):
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    result, _, _ = _run(
        run_dir,
        _agent("sleeper.py", marker, runner="none"),
        Limits(wall_seconds=1.5, grace_seconds=0.5),
        runner="none",
    )
    assert result.timed_out
    assert _wait_until_gone(marker) == []


@needs_cgroups
def test_runner_none_still_gets_cgroup_limits(run_dir):
    result, _, _ = _run(
        run_dir,
        _agent("memory_hog.py", "1500", runner="none"),
        Limits(wall_seconds=60, memory_mb=200),
        runner="none",
    )
    assert result.oom_killed and result.signal == signal.SIGKILL


def test_agent_view_gives_host_paths_behind_the_deepest_mount(tmp_path):
    code, home, data = tmp_path / "agent code", tmp_path / "home", tmp_path / "data"
    for folder in (code, home, data):
        folder.mkdir()
    mounts = [Mount(data, "/home/data"), Mount(code, "/home/agent")]
    none = get_runner("none").agent_view(mounts, folders=[Mount(home, "/home")])
    assert none.path("/home/data/train.csv") == str(data / "train.csv")
    assert none.path("/home/instructions.md") == str(home / "instructions.md")
    assert none.path("/elsewhere") == "/elsewhere"
    argv = ["python", "/home/agent/main.py", "--data=/home/data", "/home/agentx", "x/home/data"]
    assert none.argv(argv) == [
        "python", f"{code}/main.py", f"--data={data}", f"{home}/agentx", "x/home/data",
    ]  # fmt: skip
    assert none.text("cd /home/agent && ls /home/data/") == f"cd {code} && ls {data}/"
    assert none.workdir("/home") == str(home)
    with pytest.raises(SandboxError, match="neither inside a mount"):
        none.workdir("/home/missing")
    # Under bubblewrap the agent is told the sandbox's own paths.
    sandboxed = get_runner("bubblewrap").agent_view(mounts, folders=[Mount(home, "/home")])
    assert sandboxed.argv(argv) == argv and sandboxed.workdir("/home") == "/home"


def test_run_cgroups_are_removed_after_the_run(run_dir):
    _run(run_dir, ["true"], Limits(wall_seconds=30, memory_mb=100, pids=20), runner="none")
    v1, v2 = cgroups._cgroup_mounts()
    mine = [
        p
        for m in [*v1.values(), *([v2] if v2 else [])]
        for p in m.rglob(f"{cgroups.PARENT_NAME}/{os.getpid()}-*")
    ]
    assert mine == []


# --- GPUs ---------------------------------------------------------------------------------------


def test_gpu_binding_argv_only_binds_assigned_devices(run_dir):
    # No GPU exists here: this checks the command line for a made-up assignment of GPU 1.
    notes: list[str] = []
    command = Command(
        ["true"],
        mounts=[],
        env={"CUDA_VISIBLE_DEVICES": "1"},
        limits=Limits(wall_seconds=1, gpus=("1",)),
        workdir="/tmp",
        python_env=Path(sys.prefix),
    )
    cmd = bwrap_command(command, data_fds={}, notes=notes)
    binds = {cmd[i + 1] for i, a in enumerate(cmd) if a == "--dev-bind-try"}
    assert "/dev/nvidia1" in binds and "/dev/nvidiactl" in binds and "/dev/nvidia-uvm" in binds
    assert "/dev/nvidia0" not in binds
    i = cmd.index("CUDA_VISIBLE_DEVICES")
    assert cmd[i - 1 : i + 2] == ["--setenv", "CUDA_VISIBLE_DEVICES", "1"]
    if not Path("/dev/nvidia1").exists():
        assert any("/dev/nvidia1" in n for n in notes)


@needs_bwrap
def test_assigned_gpu_without_devices_still_runs(run_dir):
    code = "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], os.path.exists('/dev/nvidia0'))"
    result, out, _ = _run(run_dir, ["python", "-c", code], Limits(wall_seconds=30, gpus=("0",)))
    assert result.exit_code == 0
    assert out.split()[0] == "0"
    assert result.enforced["gpus"] == "device-binding"
    if not Path("/dev/nvidia0").exists():
        assert out.split()[1] == "False"
        assert any("/dev/nvidia0" in n for n in result.notes)


# --- hosts without (usable) cgroups ---------------------------------------------------------


@needs_bwrap
def test_without_cgroups_the_run_goes_ahead_and_says_why(run_dir, monkeypatch):
    # A host without cgroup controllers is emulated by hiding the mounts from the module.
    monkeypatch.setattr(cgroups, "_cgroup_mounts", lambda: ({}, None))
    marker = f"mlepipe-test-{uuid.uuid4().hex}"
    result, _, _ = _run(
        run_dir,
        _agent("sleeper.py", marker),
        Limits(wall_seconds=1.5, grace_seconds=0.5, memory_mb=500, pids=100),
    )
    assert result.timed_out
    assert result.enforced["memory_mb"] is None and result.enforced["pids"] is None
    assert any(n.startswith("memory_mb not enforced") for n in result.notes)
    assert any(n.startswith("pids not enforced") for n in result.notes)
    assert _wait_until_gone(marker) == []  # the PID namespace still takes everything down


def test_v2_limit_files_are_written_on_an_emulated_v2_tree(tmp_path, monkeypatch):
    # No cgroup v2 controllers exist here: a folder with the v2 file names stands in for one.
    root = tmp_path / "cgroup2"
    (root / cgroups.PARENT_NAME).mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / cgroups.PARENT_NAME / "cgroup.subtree_control").write_text("")
    (root / cgroups.PARENT_NAME / "cpuset.cpus.effective").write_text("0-63\n")
    monkeypatch.setattr(cgroups, "_cgroup_mounts", lambda: ({}, root))
    monkeypatch.setattr(cgroups, "_own_cgroups", lambda: {"": "/"})
    run = cgroups.create_run_cgroup(memory_mb=300, cpus=1.5, pids=64)
    [path] = run.dirs
    assert path.parent == root / cgroups.PARENT_NAME
    assert (path / "memory.max").read_text() == str(300 * 1024 * 1024)
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert (path / "pids.max").read_text() == "64"
    assert run.enforced == {"memory_mb": "cgroup-v2", "cpus": "cgroup-v2", "pids": "cgroup-v2"}
    assert run.memory_version == 2 and not run.oom_killed()
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert run.oom_killed()


# --- files the harness reads back from the agent's folders ------------------------------------


@needs_bwrap
def test_agent_that_swaps_its_stderr_for_a_fifo_cannot_hang_the_harness(tmp_path, practice_data):
    # Exit status 1 makes the harness look for bubblewrap's complaint in logs/agent.stderr.
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        json.dumps(
            {
                "fifo": {
                    "kind": "command",
                    "command": "python /home/agent/fifo_stderr.py",
                    "code_dir": str(AGENTS),
                }
            }
        )  # fmt: skip
    )
    run_dir = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "mlepipe", "run-agent", "--agent", "fifo", "--hardware", "cpu-small",
        "--competition", "practice-wine", "--seed", "0", "--data-dir", str(practice_data),
        "--run-dir", str(run_dir), "--sandbox", "bubblewrap", "--agents-file", str(agents),
        "--hardware-file", str(REPO / "config/hardware.yaml"),
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the harness blocked on the agent's fifo")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    assert os.path.exists(run_dir / "logs" / "agent.stderr")
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "crashed" and record["exit_code"] == 1


def test_agent_files_are_read_only_when_regular_and_within_the_cap(tmp_path):
    from mlepipe.harness.agent_files import AgentFileRejected, read_agent_file
    from mlepipe.harness.submission import extract_submission

    folder = tmp_path / "logs"
    folder.mkdir()
    os.mkfifo(folder / "fifo")
    (folder / "big").write_bytes(b"x" * 100)
    (folder / "secret").write_text("answers")
    (folder / "link").symlink_to(folder / "secret")
    (tmp_path / "elsewhere").symlink_to(folder, target_is_directory=True)
    for name, why in [("fifo", "fifo"), ("link", "symbolic link"), ("big", "over the cap")]:
        with pytest.raises(AgentFileRejected, match=why):
            read_agent_file(folder / name, 10)
    with pytest.raises(AgentFileRejected, match="folder"):
        read_agent_file(tmp_path / "elsewhere" / "secret", 10)
    with pytest.raises(FileNotFoundError):
        read_agent_file(folder / "missing", 10)
    assert read_agent_file(folder / "big", 10, prefix_only=True) == b"x" * 10
    os.mkfifo(folder / "submission.csv")
    found, reason = extract_submission(folder, tmp_path / "submission.csv", 1000)
    assert found and "fifo" in reason and not (tmp_path / "submission.csv").exists()


# --- practice answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("runner", ["none", pytest.param("bubblewrap", marks=needs_bwrap)])
def test_practice_source_datasets_are_unreachable_in_the_sandbox(run_dir, runner):
    result, out, err = _run(run_dir, _agent("practice_answers.py", runner=runner), runner=runner)
    assert result.exit_code == 0, err
    report = json.loads(out)
    assert len(report) == 9
    # Without the sandbox the same attempts succeed: they test something real.
    for attempt, outcome in report.items():
        assert outcome.startswith("ESCAPED" if runner == "none" else "blocked"), (attempt, outcome)


@needs_bwrap
@pytest.mark.parametrize("cid", ["practice-wine", "practice-digits"])
def test_baseline_still_submits_in_the_sandbox(tmp_path, registry, practice_data, cid):
    # It uses scikit-learn's models, not its bundled datasets, so the masking leaves it working.
    from mlepipe.agents.config import Agent
    from mlepipe.harness.run import run_agent

    hw = {"cpus": 2, "memory_mb": 4096, "gpus": 0, "time_limit_seconds": 300}
    record = run_agent(
        agent=Agent("baseline", {"kind": "builtin"}, REPO / "config"),
        competition=registry.get(cid), hardware_name="test", hw=hw, seed=0,
        data_dir=practice_data, run_dir=tmp_path / "run", sandbox="bubblewrap",
    )  # fmt: skip
    assert record["status"] == "ok", (tmp_path / "run" / "logs" / "agent.stderr").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "mlepipe", "validate", str(tmp_path / "run" / "submission.csv"),
         cid, "--data-dir", str(practice_data)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_file_bound_over_one_of_the_data_mount_is_the_one_the_agent_reads(
    run_dir, tmp_path_factory
):
    # How another task text is shown over the shared prepared description.md.
    (run_dir / "data" / "description.md").write_text("own text\n")
    text = tmp_path_factory.mktemp("text") / "description.md"
    text.write_text("the checkout's text\n")
    script = "cat /home/data/description.md; ls /home/data; echo x > /home/data/description.md"
    result, out, err = _run(
        run_dir, ["sh", "-c", script], extra_mounts=[Mount(text, "/home/data/description.md")]
    )
    assert out.split("\n")[:3] == ["the checkout's text", "description.md", "train.csv"], out
    assert result.exit_code != 0 and "Read-only file system" in err
    assert text.read_text() == "the checkout's text\n"
    assert (run_dir / "data" / "description.md").read_text() == "own text\n"
