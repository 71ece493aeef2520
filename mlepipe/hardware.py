"""Hardware configs: what one agent run may use (CPUs, memory, GPUs, wall-clock time), and the
Snakemake resources that ask a local machine or a Slurm cluster for it.

A hardware file (config/hardware.yaml) maps names to specs:

    mlebench-a10:
      cpus: 36
      memory_gb: 440
      gpus: {count: 1, model: a10}
      time_limit: 24h

Memory follows Snakemake's units: 1 GB = 1000 MB (`mem_mb`, which Slurm receives as `--mem`).
What a file may hold, and its defaults, are in mlepipe/schemas/hardware.yaml; this module derives
the values (seconds from "24h", MB from GB, Slurm resources).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlepipe.schemas import ConfigError, invalid, validate

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "hardware.yaml"
# Slurm's limit is the agent's limit plus this margin, so that the harness (not Slurm) stops an
# agent that runs out of time and still writes the run's record.
DEFAULT_MARGIN_MINUTES = 30

TIME_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class HardwareError(ConfigError):
    """A hardware file or spec that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Hardware:
    name: str
    cpus: int
    memory_gb: float
    time_limit_seconds: int
    gpus: int = 0
    gpu_model: str | None = None
    disk_gb: float = 100.0
    output_mb: int = 100

    @property
    def memory_mb(self) -> int:
        return round(self.memory_gb * 1000)

    @property
    def disk_mb(self) -> int:
        return round(self.disk_gb * 1000)

    def as_run_limits(self) -> dict[str, Any]:
        """The limits the run harness enforces and tells the agent about."""
        return {
            "cpus": self.cpus,
            "memory_mb": self.memory_mb,
            "gpus": self.gpus,
            "gpu_model": self.gpu_model,
            "time_limit_seconds": self.time_limit_seconds,
            "disk_mb": self.disk_mb,
            "output_mb": self.output_mb,
        }


def parse_time_limit(value: Any) -> int:
    """Seconds from "24h", "90m", "1h30m", "45s", "2d" or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 24h, 90m or 600 (seconds), got {value!r}")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    elif isinstance(value, str) and value.strip() and (m := TIME_RE.match(value.strip())):
        d, h, mi, s = (int(g or 0) for g in m.groups())
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    else:
        raise ValueError(f"expected a duration such as 24h, 90m or 600 (seconds), got {value!r}")
    if seconds <= 0:
        raise ValueError(f"must be longer than 0 seconds, got {value!r}")
    return seconds


def _hardware(name: str, spec: dict[str, Any], source: str) -> Hardware:
    """A spec already checked against the schema, with its values derived."""
    try:
        seconds = parse_time_limit(spec["time_limit"])
    except ValueError as exc:  # the schema checks the form; a zero duration gets here
        raise HardwareError(invalid(source, [(f"{name}.time_limit", str(exc))])) from None
    gpus = spec["gpus"]
    if isinstance(gpus, dict):
        count, model = gpus["count"], gpus.get("model")
    else:
        count, model = gpus, None
    return Hardware(
        name=name,
        cpus=int(spec["cpus"]),
        memory_gb=float(spec["memory_gb"]),
        time_limit_seconds=seconds,
        gpus=int(count),
        gpu_model=model,
        disk_gb=float(spec["disk_gb"]),
        output_mb=int(spec["output_mb"]),
    )


def hardware_configs(data: Any, source: str) -> dict[str, Hardware]:
    """The hardware configs of a file's content, by name; errors name `source` and the key."""
    validate("hardware", data, source, HardwareError)
    return {name: _hardware(name, spec, source) for name, spec in data.items()}


def parse_hardware(name: str, spec: Any, source: str = "hardware config") -> Hardware:
    """One hardware spec, checked (a copy: `spec` itself is left as given)."""
    return hardware_configs({name: copy.deepcopy(spec)}, source)[name]


def load_hardware(path: Path | str = DEFAULT_FILE) -> dict[str, Hardware]:
    """All hardware configs of a YAML file, by name."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise HardwareError(f"hardware file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise HardwareError(f"{path}: not valid YAML: {exc}") from None
    return hardware_configs(data, str(path))


def slurm_resources(hw: Hardware, margin_minutes: int = DEFAULT_MARGIN_MINUTES) -> dict[str, Any]:
    """Snakemake resources for one agent run under the Slurm executor plugin: `--time` (minutes,
    the time limit plus a margin), `--mem`, `--cpus-per-task` and, with GPUs,
    `--gpus=MODEL:N` (or `--gpus=N` without a model)."""
    if isinstance(margin_minutes, bool) or not isinstance(margin_minutes, int):
        raise ValueError(f"margin_minutes: expected a whole number >= 0, got {margin_minutes!r}")
    if margin_minutes < 0:
        raise ValueError(f"margin_minutes: expected a whole number >= 0, got {margin_minutes!r}")
    resources: dict[str, Any] = {
        "runtime": math.ceil(hw.time_limit_seconds / 60) + margin_minutes,
        "mem_mb": hw.memory_mb,
        # One task with all CPUs, also for GPU jobs: the same allocation as --cpus-per-gpu with
        # one GPU, and the rules' `threads` can follow it.
        "cpus_per_task": hw.cpus,
    }
    if hw.gpus:
        resources["gpu"] = hw.gpus
        if hw.gpu_model:
            resources["gpu_model"] = hw.gpu_model
    return resources
