"""The one way configuration is checked: every file against its schema in mlepipe/schemas, with
the schema's defaults filled in and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from mlepipe.agents.config import Agent, load_agents
from mlepipe.schemas import SCHEMAS_DIR, ConfigError, load_schema, validate

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = ["experiment", "competition", "reference_checksums", "agents", "hardware", "prices"]


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_is_a_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_the_schemas_folder_holds_exactly_these():
    assert sorted(p.stem for p in SCHEMAS_DIR.glob("*.yaml")) == sorted(SCHEMAS)


@pytest.mark.parametrize(
    ("name", "path"),
    [("experiment", "config/config.yaml"), ("agents", "config/agents.yaml"),
     ("hardware", "config/hardware.yaml"), ("prices", "config/prices.yaml")],
)  # fmt: skip
def test_the_shipped_config_files_are_valid(name, path):
    validate(name, yaml.safe_load((REPO / path).read_text()), path)


def test_defaults_are_filled_and_never_shared():
    first, second = {"competitions": ["practice"], "agents": ["dummy"], "hardware": ["x"],
                     "seeds": [0]}, {}  # fmt: skip
    second.update(first)
    validate("experiment", first, "first")
    validate("experiment", second, "second")
    assert first["sandbox"] == "bubblewrap" and first["mirror"] is None
    agent = {"kind": "builtin"}
    validate("agents", {"a": agent}, "agents")
    assert agent["env"] == []
    agent["env"].append("X")
    assert load_schema("agents")["additionalProperties"]["properties"]["env"]["default"] == []


def test_errors_name_the_file_and_every_key():
    with pytest.raises(ConfigError) as err:
        validate("experiment", {"competitions": [], "agents": ["dummy"], "hardware": ["x"],
                                "seeds": ["zero"]}, "config/config.yaml")  # fmt: skip
    message = str(err.value)
    assert message.startswith("config/config.yaml is invalid:\n")
    assert "  competitions: [] should be non-empty" in message
    assert "  seeds.0: 'zero' is not of type 'integer'" in message


def test_a_command_agent_needs_its_command(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("mine:\n  kind: command\n")
    with pytest.raises(ConfigError, match=r"agents.yaml is invalid:\n  mine: 'command' is a req"):
        load_agents(path)
    path.write_text("mine:\n  kind: command\n  command: ''\n")
    with pytest.raises(ConfigError, match="mine.command: '' should be non-empty"):
        load_agents(path)


def test_an_agent_made_in_code_is_checked_and_completed():
    assert Agent("dummy", {"kind": "builtin"}, REPO).passthrough_env == []
    with pytest.raises(ConfigError, match="agent 'x' is invalid:\n  x.env.0: 'NOT A NAME'"):
        Agent("x", {"kind": "command", "command": "true", "env": ["NOT A NAME"]}, REPO)


def test_a_builtin_package_agent_is_versioned_by_what_python_m_runs():
    files = Agent("baseline", {"kind": "builtin"}, REPO).code_files()
    names = {str(p.relative_to(REPO / "mlepipe")) for p in files}
    assert {
        "agents/contract.py",
        "agents/baseline/__main__.py",
        "agents/baseline/solve.py",
    } <= names
    assert "agents/config.py" not in names and "agents/dummy.py" not in names
    dummy = Agent("dummy", {"kind": "builtin"}, REPO).code_files()
    assert {str(p.relative_to(REPO / "mlepipe")) for p in dummy} == {
        "__init__.py", "agents/__init__.py", "agents/contract.py", "agents/dummy.py",
    }  # fmt: skip


def test_gateway_settings_are_checked_with_defaults_filled():
    gateway = {"upstream": "http://127.0.0.1:8000/v1", "models": ["m"]}
    agent = {"kind": "command", "command": "true", "gateway": gateway}
    validate("agents", {"llm": agent}, "agents")
    assert gateway["budget"] == {} and gateway["log_bodies"] is True
    wrong = {"upstream": "api.example.com", "models": [], "budget": {"dollars": 1}}
    bad = {"kind": "command", "command": "true", "gateway": wrong}
    with pytest.raises(ConfigError) as err:
        validate("agents", {"llm": bad}, "agents.yaml")
    message = str(err.value)
    assert "llm.gateway.upstream" in message and "llm.gateway.models" in message
    assert "llm.gateway.budget" in message
