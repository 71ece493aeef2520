"""MLE-bench agent folders (`kind: mlebench`): config.yaml read as MLE-bench's agent registry
reads it, kwargs passed to start.sh as its agents/run.py passes them, `${{ secrets.NAME }}`
from the host, and the refusals (privileged without the experiment's consent, another sandbox,
a wrong folder or id). The run itself is tested through snakemake in test_mlebench_pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlepipe.agents import mlebench
from mlepipe.agents.config import Agent
from mlepipe.harness.run import _mlebench_start, run_agent
from mlepipe.harness.runner import SandboxUnavailable
from mlepipe.registry import Registry
from mlepipe.schemas import ConfigError

PROBE = Path(__file__).with_name("agents_mlebench") / "probe"


@pytest.fixture
def agents_dir(tmp_path) -> Path:
    """A copy of the test agent folder in an agents folder, as MLE-bench lays them out."""
    shutil.copytree(PROBE, tmp_path / "agents" / "probe")
    return tmp_path / "agents"


def _agent(agents_dir: Path, **spec) -> Agent:
    return Agent("probe", {"kind": "mlebench", "folder": "agents/probe", **spec}, agents_dir.parent)


# --- kwargs, as agents/run.py passes them --------------------------------------------------------


def test_argparse_kwargs_follow_start_sh_as_dashed_options_in_order():
    argv = mlebench.start_command({"steps": 8, "agent.code.model": "gpt-4o", "copy": False},
                                  "argparse")  # fmt: skip
    assert argv == ["bash", "/home/agent/start.sh", "--steps", "8", "--agent.code.model",
                    "gpt-4o", "--copy", "False"]  # fmt: skip


def test_omegaconf_kwargs_are_key_equals_value():
    argv = mlebench.start_command({"agent.steps": 500, "copy_data": False}, "omegaconf")
    assert argv == ["bash", "/home/agent/start.sh", "agent.steps=500", "copy_data=False"]


def test_kwargs_of_another_type_are_not_passed():
    assert mlebench.start_command({"steps": 1}, "hydra") == ["bash", "/home/agent/start.sh"]
    assert mlebench.start_command({}, None) == ["bash", "/home/agent/start.sh"]


def test_the_agents_start_command_comes_from_its_config(agents_dir):
    assert _agent(agents_dir).argv() == [
        "bash", "/home/agent/start.sh", "--steps", "3", "--model.name", "probe-model"
    ]  # fmt: skip
    assert _agent(agents_dir, id="probe/omegaconf").argv()[2:] == [
        "steps=3", "model.name=probe-model"
    ]  # fmt: skip


def test_container_env_is_competition_id_then_env_vars_as_text():
    env = mlebench.container_env("spaceship-titanic", {"TIME_LIMIT_SECS": 86400, "X": True})
    assert env == {"COMPETITION_ID": "spaceship-titanic", "TIME_LIMIT_SECS": "86400", "X": "True"}


# --- secrets --------------------------------------------------------------------------------------


def test_secrets_come_from_the_host_and_the_whole_value_is_replaced():
    values = {"A": "${{ secrets.KEY_A }}", "B": "${{secrets.KEY_B}}", "C": "${{ secrets.KEY_A }}x",
              "D": "not ${{ secrets.KEY_A }}", "E": 7}  # fmt: skip
    got = mlebench.resolve(values, {"KEY_A": "a-value", "KEY_B": "b-value"})
    # A value that starts with the reference is the variable's value (MLE-bench matches at the
    # start of the value); one that merely contains it stays as written.
    assert got == {"A": "a-value", "B": "b-value", "C": "a-value",
                   "D": "not ${{ secrets.KEY_A }}", "E": 7}  # fmt: skip


def test_an_unset_secret_is_an_error_naming_the_variable():
    with pytest.raises(ConfigError, match="host variable KEY_A.*not set"):
        mlebench.resolve({"A": "${{ secrets.KEY_A }}"}, {})


def test_the_gateways_key_is_replaced_by_its_token(agents_dir, monkeypatch):
    monkeypatch.setenv("MLEPIPE_PROBE_SECRET", "the-real-key")
    gateway = {"upstream": "http://127.0.0.1:9/v1", "models": ["m"],
               "key_env": "MLEPIPE_PROBE_SECRET"}  # fmt: skip
    agent = _agent(agents_dir, gateway=gateway)

    class Gateway:
        token = "per-run-token"

    argv, env = _mlebench_start(agent, Registry().get("spaceship-titanic"), Gateway())
    assert env["PROBE_SECRET"] == "per-run-token"
    assert "the-real-key" not in " ".join([*argv, *env.values()])
    argv, env = _mlebench_start(_agent(agents_dir), Registry().get("spaceship-titanic"), None)
    assert env["PROBE_SECRET"] == "the-real-key"  # no gateway: the host's value


def test_secret_values_are_not_part_of_the_agents_version(agents_dir, monkeypatch):
    monkeypatch.setenv("MLEPIPE_PROBE_SECRET", "one")
    first = _agent(agents_dir).version()
    monkeypatch.setenv("MLEPIPE_PROBE_SECRET", "two")
    assert _agent(agents_dir).version() == first
    assert _agent(agents_dir).mlebench.secrets == ["MLEPIPE_PROBE_SECRET"]
    (agents_dir / "probe" / "start.sh").write_text("#!/bin/bash\nexit 0\n")
    assert _agent(agents_dir).version() != first  # the folder is the agent's code


# --- the folder and the config id -------------------------------------------------------------


def test_the_id_defaults_to_the_folders_name_and_yaml_merge_keys_work(agents_dir):
    config = _agent(agents_dir).mlebench
    assert config.id == "probe" and config.kwargs_type == "argparse"
    assert config.env_vars == {"PROBE_SECRET": "${{ secrets.MLEPIPE_PROBE_SECRET }}",
                               "PROBE_LIMIT": 60}  # fmt: skip
    agent = _agent(agents_dir, id="probe/privileged")
    assert agent.privileged and agent.mlebench.kwargs == {}
    assert agent.build_dir == (agents_dir / "probe").resolve() and agent.dockerfile == "Dockerfile"
    assert agent.build_args["AGENT_DIR"] == "/home/agent"
    assert agent.image == "mlepipe-agent-probe:latest"


@pytest.mark.parametrize(
    "change, message",
    [
        ("no-config", r"agents/probe has no config\.yaml"),
        ("bad-id", r"config\.yaml: no agent config 'nope' \(it has: defaults, probe, "),
        ("no-start", r"config\.yaml: agent config 'probe': start 'probe/run\.sh' is no file"),
        ("no-type", r"config\.yaml: agent config 'probe': kwargs are given without kwargs_type"),
        ("outside", r"dockerfile 'other/Dockerfile' must lie in the agent folder"),
        ("bad-yaml", r"config\.yaml: not valid YAML"),
    ],
)
def test_a_bad_folder_or_id_is_a_one_line_error_naming_the_file(agents_dir, change, message):
    config = agents_dir / "probe" / "config.yaml"
    text = config.read_text()
    spec = {}
    if change == "no-config":
        config.unlink()
    elif change == "bad-id":
        spec = {"id": "nope"}
    elif change == "no-start":
        config.write_text(text.replace("start: probe/start.sh", "start: probe/run.sh"))
    elif change == "no-type":
        config.write_text(text.replace("  kwargs_type: argparse\n", "", 1))
    elif change == "outside":
        (agents_dir / "other").mkdir()
        (agents_dir / "other" / "Dockerfile").write_text("FROM scratch\n")
        config.write_text(
            text.replace("dockerfile: probe/Dockerfile", "dockerfile: other/Dockerfile")
        )
    elif change == "bad-yaml":
        config.write_text("probe: [\n")
    with pytest.raises(ConfigError, match=message) as err:
        _agent(agents_dir, **spec)
    assert "\n" not in str(err.value) and "agent 'probe'" in str(err.value)


def test_schema_keeps_folder_and_id_to_mlebench_agents(agents_dir):
    with pytest.raises(ConfigError, match="should not be valid"):
        _agent(agents_dir, image="somewhere:latest")
    with pytest.raises(ConfigError, match="should not be valid"):
        Agent("x", {"kind": "command", "command": "true", "folder": "agents/probe"}, agents_dir)
    with pytest.raises(ConfigError, match="'folder' is a required property"):
        Agent("x", {"kind": "mlebench"}, agents_dir)


# --- refusals before anything runs ------------------------------------------------------------


def _run(agent: Agent, tmp_path: Path, sandbox: str, allow_privileged: bool = False):
    hw = {"time_limit_seconds": 60}
    return run_agent(
        agent=agent, competition=Registry().get("spaceship-titanic"), hardware_name="cpu",
        hw=hw, seed=0, data_dir=tmp_path / "data", run_dir=tmp_path / "run", sandbox=sandbox,
        container_engine="unix:///nonexistent.sock", allow_privileged=allow_privileged,
    )  # fmt: skip


def test_privileged_is_refused_unless_the_experiment_allows_it(agents_dir, tmp_path):
    agent = _agent(agents_dir, id="probe/privileged")
    with pytest.raises(SandboxUnavailable, match=r"allow_privileged: true.*probe/config\.yaml"):
        _run(agent, tmp_path, "container")
    assert not (tmp_path / "run").exists()  # refused before the run started
    # Allowed, it gets as far as the engine (none answers at this socket).
    with pytest.raises(SandboxUnavailable, match="no container engine answers"):
        _run(agent, tmp_path, "container", allow_privileged=True)


@pytest.mark.parametrize("sandbox", ["bubblewrap", "none"])
def test_an_mlebench_agent_runs_in_a_container_only(agents_dir, tmp_path, sandbox):
    with pytest.raises(SandboxUnavailable, match="set `sandbox: container`"):
        _run(_agent(agents_dir), tmp_path, sandbox)


# --- the validator's answer, as MLE-bench's endpoint gives it ----------------------------------


def _validate(capsys, submission: Path, public: Path) -> tuple[int, str]:
    from mlepipe.cli import main

    code = main(["validate", str(submission), "spaceship-titanic", "--public-dir", str(public),
                 "--answer", "mlebench"])  # fmt: skip
    return code, capsys.readouterr().out


def test_validate_answers_as_mlebenchs_endpoint(tmp_path, capsys):
    public = tmp_path / "public"
    public.mkdir()
    rows = "PassengerId,Transported\n0001_01,False\n0002_01,False\n"
    (public / "sample_submission.csv").write_text(rows)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(rows.replace("False", "True"))
    bad.write_text("PassengerId,Transported\n0001_01,False\n")
    assert _validate(capsys, good, public) == (0, '{"result":"Submission is valid."}\n')
    code, out = _validate(capsys, bad, public)
    assert code == 0 and out.startswith(
        '{"result":"Submission invalid! The attempt to grade the submission has resulted in the '
        "following error message:\\n"
    ), out
    # What the validator cannot check is the endpoint's "unexpected error" (HTTP 500 there).
    code, out = _validate(capsys, good, tmp_path / "nowhere")
    assert code == 0 and out.startswith('{"details":"sample submission not found at ')
    assert out.endswith('","error":"An unexpected error occurred."}\n')
