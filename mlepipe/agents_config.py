"""Agent definitions (`config/agents.yaml`) and their versions.

An agent's version is a digest of its settings and of its code, so that editing one agent (its
settings, its built-in module, or the files it declares as code) reruns that agent's runs only.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlepipe.registry import PACKAGE_DIR, RegistryError, validate_against

AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"enum": ["builtin", "command"]},
            "description": {"type": "string"},
            "module": {"type": "string", "description": "builtin: mlepipe.agents.<module>"},
            "command": {
                "description": "command: the command line run inside the sandbox",
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            },
            "code_dir": {
                "type": "string",
                "description": "host folder of the agent's code, mounted read-only at /home/agent",
            },
            "version": {"type": ["string", "number"], "description": "bump to force reruns"},
            "env": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "description": "host environment variables passed through by name (never logged)",
            },
            "settings": {"type": "object", "description": "passed to the agent as AGENT_SETTINGS"},
        },
    },
}

AGENT_MOUNT = "/home/agent"


@dataclass(frozen=True)
class Agent:
    name: str
    spec: dict[str, Any]
    base_dir: Path  # relative code_dir paths are resolved against the agents file's folder

    @property
    def kind(self) -> str:
        return self.spec["kind"]

    @property
    def passthrough_env(self) -> list[str]:
        return list(self.spec.get("env", []))

    @property
    def code_dir(self) -> Path | None:
        d = self.spec.get("code_dir")
        return (self.base_dir / d).resolve() if d else None

    def argv(self) -> list[str]:
        if self.kind == "builtin":
            return ["python", "-m", f"mlepipe.agents.{self.spec.get('module', self.name)}"]
        cmd = self.spec["command"]
        return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)

    def code_files(self) -> list[Path]:
        """The files whose content versions the agent: a builtin agent's module and every
        package module it imports (the shared agent contract too); a command agent's code_dir."""
        if self.kind == "builtin":
            from mlepipe.pipeline import module_closure

            return module_closure([f"mlepipe.agents.{self.spec.get('module', self.name)}"])
        if self.code_dir and self.code_dir.is_dir():
            return sorted(
                p for p in self.code_dir.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            )  # fmt: skip
        return []

    def version(self) -> str:
        """Digest of the settings and code; the pipeline reruns an agent's runs when it changes."""
        h = hashlib.sha256(json.dumps(self.spec, sort_keys=True, default=str).encode())
        for path in self.code_files():
            name = path.relative_to(PACKAGE_DIR) if PACKAGE_DIR in path.parents else path.name
            h.update(str(name).encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]


def load_agents(path: Path) -> dict[str, Agent]:
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"agents file {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    validate_against(AGENT_SCHEMA, data, str(path))
    agents = {}
    for name, spec in data.items():
        if spec["kind"] == "command" and not spec.get("command"):
            raise RegistryError(f"{path}: agent '{name}' of kind command needs 'command'")
        agents[name] = Agent(name, spec, path.parent)
    return agents
