"""Runner apptainer: its command lines against the sandbox contract.

Apptainer is packaged neither in Debian 12 nor on PyPI, so it cannot run here. The command line
and environment the runner builds are checked against the contract, and one run goes through
the whole harness with a stand-in `apptainer` executable (named as such below) that records what
it was given and runs the command after the image directly, unisolated."""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mlepipe.harness.apptainer import ApptainerRunner, apptainer_command
from mlepipe.harness.bubblewrap import GUARD_MOUNT, GuardPipes
from mlepipe.harness.runner import Command, Limits, Mount, SandboxError, SandboxUnavailable
from mlepipe.harness.runners import get_runner

SECRET = "s3cret-value-that-must-not-be-on-a-command-line"


def _command(tmp_path: Path, gpus=()) -> Command:
    for name in ("data", "submission", "code"):
        (tmp_path / name).mkdir(exist_ok=True)
    mounts = [
        Mount(tmp_path / "data", "/home/data"),
        Mount(tmp_path / "submission", "/home/submission", writable=True),
        Mount(tmp_path / "code", "/home/code", writable=True),
    ]
    return Command(
        argv=["python", "/home/agent/main.py", "--data", "/home/data"],
        mounts=mounts,
        env={"SEED": "0", "OPENAI_API_KEY": SECRET},
        limits=Limits(wall_seconds=60, gpus=tuple(gpus)),
        workdir="/home",
        python_env=Path(sys.prefix),
    )


def _binds(argv: list[str]) -> dict[str, str]:
    """target -> "source:mode" of every --bind."""
    out = {}
    for i, arg in enumerate(argv):
        if arg == "--bind":
            source, target, mode = argv[i + 1].rsplit(":", 2)
            out[target] = f"{source}:{mode}"
    return out


def test_command_line_follows_the_contract(tmp_path):
    image = tmp_path / "agent.sif"
    pipes = GuardPipes.open()
    pipes.close()  # only their numbers are used
    argv = apptainer_command("apptainer", image, _command(tmp_path), notes=[], guard=pipes)
    assert argv[:2] == ["apptainer", "exec"]
    head = argv[: argv.index(str(image))]
    # Isolation: fresh namespaces and file system, cleared environment, no home, loopback only.
    for flag in ("--containall", "--cleanenv", "--no-home"):
        assert flag in head
    assert head[head.index("--network") + 1] == "none" and "--net" in head
    assert "--nv" not in head  # no GPU assigned
    binds = _binds(head)
    assert binds["/home/data"] == f"{tmp_path / 'data'}:ro"
    assert binds["/home/submission"] == f"{tmp_path / 'submission'}:rw"
    assert binds["/home/code"] == f"{tmp_path / 'code'}:rw"
    assert binds[GUARD_MOUNT].endswith("guard.py:ro")
    # The Python environment is read-only at its own path, and practice data are covered.
    assert binds[str(Path(sys.prefix).resolve())].endswith(":ro")
    assert all(mode.endswith(":ro") for t, mode in binds.items() if "sklearn" in t)
    assert head[head.index("--pwd") + 1] == "/home"
    # After the image: the guard, holding the harness's pipes, then the agent as given.
    rest = argv[argv.index(str(image)) + 1 :]
    fds = [str(pipes.life_read), str(pipes.report_write)]
    assert rest[1:6] == ["-I", GUARD_MOUNT, *fds, "--"]
    assert rest[6:] == ["python", "/home/agent/main.py", "--data", "/home/data"]
    assert SECRET not in " ".join(argv)


def test_gpus_are_passed_with_nv(tmp_path):
    argv = apptainer_command("apptainer", tmp_path / "a.sif", _command(tmp_path, ["0"]), [])
    assert "--nv" in argv[: argv.index(str(tmp_path / "a.sif"))]


def test_environment_goes_through_apptainerenv_variables_only(tmp_path):
    image = tmp_path / "agent.sif"
    image.write_bytes(b"SIF")
    launch = ApptainerRunner(image).launch(_command(tmp_path), notes=[])
    try:
        assert launch.env["APPTAINERENV_OPENAI_API_KEY"] == SECRET
        assert launch.env["APPTAINERENV_SEED"] == "0"
        assert SECRET not in " ".join(launch.argv)
        # The guard's two ends go in; the harness holds the others, the report's read end too.
        assert len(launch.held_fds) == 2 and len(launch.pass_fds) == 2
        assert launch.report_fd in launch.held_fds
    finally:
        for fd in (*launch.pass_fds, *launch.held_fds):
            os.close(fd)


def test_missing_apptainer_or_image_is_said_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="apptainer is not on PATH"):
        ApptainerRunner.check()
    with pytest.raises(SandboxError, match="set `sif:`"):
        ApptainerRunner(None).launch(_command(tmp_path), [])
    with pytest.raises(SandboxError, match="does not exist"):
        ApptainerRunner(tmp_path / "none.sif").launch(_command(tmp_path), [])


STAND_IN = """#!{python}
# A stand-in for apptainer (which cannot be installed here): records its command line and the
# APPTAINERENV_ variables, then runs the command after the image directly, unisolated.
import json, os, sys
RECORD, GUARD = {record!r}, {guard!r}
argv = sys.argv[1:]
image = next(a for a in argv if a.endswith(".sif"))
rest = argv[argv.index(image) + 1:]
env = {k[len("APPTAINERENV_"):]: v for k, v in os.environ.items() if k.startswith("APPTAINERENV_")}
with open(RECORD, "w") as f:
    json.dump({"argv": argv, "env": env, "outer": sorted(os.environ)}, f)
rest[2] = GUARD  # bound at its sandbox path by apptainer; here run from the package
os.execve(rest[0], rest, {**env, "PATH": os.environ["PATH"]})
"""


def test_a_run_through_the_harness_with_a_stand_in_apptainer(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "apptainer"
    from mlepipe.harness.bubblewrap import GUARD_SCRIPT

    record_file = tmp_path / "record.json"
    tool.write_text(STAND_IN.replace("{record!r}", repr(str(record_file))).replace(
        "{guard!r}", repr(str(GUARD_SCRIPT))).replace("{python}", sys.executable))  # fmt: skip
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    image = tmp_path / "agent.sif"
    image.write_bytes(b"not a real SIF")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    (tmp_path / "out").mkdir()
    runner = get_runner("apptainer", image=image)
    result = runner.run(
        ["sh", "-c", "echo seed=$SEED; exit 3"],
        mounts=[Mount(tmp_path / "out", "/home/submission", writable=True)],
        env={"SEED": "7", "OPENAI_API_KEY": SECRET},
        limits=Limits(wall_seconds=30),
        workdir="/home",
        stdout=tmp_path / "stdout",
        stderr=tmp_path / "stderr",
    )
    record = json.loads(record_file.read_text())
    assert (result.runner, result.exit_code) == ("apptainer", 3)
    assert (tmp_path / "stdout").read_text() == "seed=7\n"
    assert record["env"]["SEED"] == "7" and SECRET not in " ".join(record["argv"])
    # apptainer itself is given only its variables and PATH: nothing of the harness's own
    # (LC_CTYPE is Python's own locale coercion in the stand-in).
    outer = set(record["outer"]) - {"PATH", "LC_CTYPE"}
    assert outer == {f"APPTAINERENV_{k}" for k in record["env"]}
    assert result.identity["sif"] == str(image.resolve())
    assert len(result.identity["sif_sha256"]) == 64
    assert result.enforced["network"].startswith("namespace")
    # The guard reported, outside a PID namespace of its own too.
    assert result.metering["disk_written_mb"] is not None, result.notes


def test_a_file_bound_over_the_data_mount_comes_after_it(tmp_path):
    # Another task text shown over the prepared description.md: binds apply in order.
    text = tmp_path / "description.md"
    text.write_text("theirs\n")
    command = _command(tmp_path)
    mounts = [command.mounts[0], Mount(text, "/home/data/description.md"), *command.mounts[1:]]
    argv = apptainer_command(
        "apptainer", tmp_path / "agent.sif", replace(command, mounts=mounts), notes=[]
    )
    binds = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--bind"]
    data = binds.index(f"{tmp_path / 'data'}:/home/data:ro")
    assert binds.index(f"{text}:/home/data/description.md:ro") == data + 1
