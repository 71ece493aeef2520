"""Agent definitions (`config/agents.yaml`, checked against mlepipe/schemas/agents.yaml) and their
versions.

An agent's version is a digest of its settings, of its code and of its own Python environment's
requirements (if it has one: ``mlepipe.agents.envs``), so that editing one agent (its settings,
its built-in module, the files it declares as code, its requirements) reruns that agent's runs
only. Read by the pipeline and the run harness, never by an agent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlepipe.agents import mlebench
from mlepipe.registry import PACKAGE_DIR
from mlepipe.schemas import ConfigError, validate

AGENT_MOUNT = "/home/agent"


@dataclass(frozen=True)
class Agent:
    """One agent. Its spec is checked against the schema, and completed with the schema's
    defaults, however the agent is made."""

    name: str
    spec: dict[str, Any]
    base_dir: Path  # relative code_dir paths are resolved against the agents file's folder

    def __post_init__(self) -> None:
        validate("agents", {self.name: self.spec}, f"agent '{self.name}'")
        if self.kind == "mlebench":
            _ = self.mlebench  # a wrong folder or config id is an error of the agents file

    @functools.cached_property
    def mlebench(self) -> mlebench.MlebenchConfig:
        """kind mlebench: the config id's entry of its folder's config.yaml."""
        if self.kind != "mlebench":
            raise ConfigError(f"agent '{self.name}' is no MLE-bench agent (kind: mlebench)")
        try:
            return mlebench.load_config(self.base_dir / self.spec["folder"], self.spec.get("id"))
        except ConfigError as exc:
            raise ConfigError(f"agent '{self.name}': {exc}") from None

    @property
    def privileged(self) -> bool:
        """Whether the agent asks for a privileged container (its MLE-bench config can)."""
        if self.kind == "mlebench" and self.mlebench.privileged:
            return True
        return bool(self.spec.get("privileged"))

    @property
    def kind(self) -> str:
        return self.spec["kind"]

    @property
    def passthrough_env(self) -> list[str]:
        return list(self.spec["env"])

    @property
    def code_dir(self) -> Path | None:
        d = self.spec.get("code_dir")
        return (self.base_dir / d).resolve() if d else None

    @property
    def builtin_module(self) -> str:
        """The module a builtin agent runs as (`python -m`): `module`, else the agent's name."""
        return f"mlepipe.agents.{self.spec.get('module', self.name)}"

    @property
    def build_dir(self) -> Path | None:
        """The folder with the Dockerfile the agent's image is built from, if any."""
        if self.kind == "mlebench":
            return self.mlebench.folder
        d = self.spec.get("build")
        return (self.base_dir / d).resolve() if d else None

    @property
    def dockerfile(self) -> str:
        """The Dockerfile's name in the build context."""
        return self.mlebench.dockerfile.name if self.kind == "mlebench" else "Dockerfile"

    @property
    def build_args(self) -> dict[str, str]:
        """Build arguments of the image (MLE-bench's agents get the paths they put things at)."""
        return dict(mlebench.SHARED_ENV) if self.kind == "mlebench" else {}

    @property
    def image(self) -> str | None:
        """The image the agent runs in under the container runner (built ones get a name)."""
        if self.spec.get("image"):
            return self.spec["image"]
        return f"mlepipe-agent-{self.name.lower()}:latest" if self.build_dir else None

    @property
    def sif(self) -> Path | None:
        """The Apptainer image the agent runs in under the apptainer runner, if any."""
        d = self.spec.get("sif")
        return (self.base_dir / d).resolve() if d else None

    @property
    def requirements(self) -> list[str]:
        """The pip requirements of the agent's own environment (none: the pipeline's)."""
        value = self.spec.get("requirements")
        if value is None or isinstance(value, list):
            return list(value or [])
        path = self.base_dir / value
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(
                f"agent '{self.name}': cannot read its requirements file {path}: {exc.strerror}"
            ) from None
        kept = [line.split(" #")[0].strip() for line in lines]
        return [line for line in kept if line and not line.startswith("#")]

    @property
    def requirements_no_deps(self) -> list[str]:
        return list(self.spec.get("requirements_no_deps") or [])

    @property
    def has_own_env(self) -> bool:
        return bool(self.requirements or self.requirements_no_deps)

    def argv(self) -> list[str]:
        if self.kind == "builtin":
            return ["python", "-m", self.builtin_module]
        if self.kind == "mlebench":  # kwargs as written: secrets are resolved at run time
            return mlebench.start_command(self.mlebench.kwargs, self.mlebench.kwargs_type)
        cmd = self.spec["command"]
        return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)

    def code_files(self) -> list[Path]:
        """The files whose content versions the agent: a builtin agent's module (a package's
        `__main__` too, which is what `python -m` runs) and every package module it imports
        (the shared agent contract too); a command agent's code_dir; the image's build context."""
        if self.kind == "builtin":
            from mlepipe.pipeline import module_closure

            module = self.builtin_module
            return module_closure([module, f"{module}.__main__"])
        folders = [d for d in (self.code_dir, self.build_dir) if d and d.is_dir()]
        return sorted(
            {
                p
                for d in folders
                for p in d.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            }
        )

    def version(self) -> str:
        """Digest of the settings and code; the pipeline reruns an agent's runs when it changes."""
        h = hashlib.sha256(json.dumps(self.spec, sort_keys=True, default=str).encode())
        if self.has_own_env:  # a requirements file's content, not only its name
            from mlepipe.agents.envs import env_digest

            h.update(env_digest(self).encode())
        for path in self.code_files():
            name = path.relative_to(PACKAGE_DIR) if PACKAGE_DIR in path.parents else path.name
            h.update(str(name).encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]


def load_agents(path: Path) -> dict[str, Agent]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"agents file {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    validate("agents", data, str(path))  # errors name the file; each Agent checks its own spec
    return {name: Agent(name, spec, path.parent) for name, spec in data.items()}
