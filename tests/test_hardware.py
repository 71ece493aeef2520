"""Hardware configs: parsing, errors that name the offending key, and the Snakemake resources and
sbatch arguments they turn into."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from mlepipe.hardware import (
    DEFAULT_FILE,
    Hardware,
    HardwareError,
    load_hardware,
    parse_hardware,
    parse_time_limit,
    slurm_resources,
)

A10 = {"cpus": 36, "memory_gb": 440, "gpus": {"count": 1, "model": "a10"}, "time_limit": "24h"}


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "hardware.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


# --- parsing ---------------------------------------------------------------------------------


def test_builtin_configs_are_mlebench_reference_and_cpu_small():
    hw = load_hardware(DEFAULT_FILE)
    assert hw["mlebench-a10"] == Hardware(
        name="mlebench-a10", cpus=36, memory_gb=440.0, time_limit_seconds=24 * 3600,
        gpus=1, gpu_model="a10",
    )  # fmt: skip
    small = hw["cpu-small"]
    assert (small.cpus, small.memory_mb, small.gpus, small.time_limit_seconds) == (2, 4000, 0, 600)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("24h", 86400), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("2d", 172800),
     (600, 600), ("600", 600), ("1d2h3m4s", 93784)],
)  # fmt: skip
def test_time_limits_accept_units_and_plain_seconds(value, seconds):
    assert parse_time_limit(value) == seconds


@pytest.mark.parametrize("value", ["", "1.5h", "h", "10x", "m90", "1 hour", 0, -5, True, None, 2.5])
def test_time_limits_reject_what_is_not_a_positive_duration(value):
    with pytest.raises(ValueError):
        parse_time_limit(value)


def test_gpus_may_be_left_out_or_given_as_a_count():
    no_gpu = parse_hardware("x", {"cpus": 1, "memory_gb": 0.5, "time_limit": 60})
    assert (no_gpu.gpus, no_gpu.gpu_model, no_gpu.memory_mb) == (0, None, 500)
    two = parse_hardware("y", {"cpus": 8, "memory_gb": 32, "time_limit": "1h", "gpus": 2})
    assert (two.gpus, two.gpu_model) == (2, None)


def test_run_limits_carry_what_the_harness_enforces():
    hw = parse_hardware("mlebench-a10", A10)
    assert hw.as_run_limits() == {
        "cpus": 36, "memory_mb": 440000, "gpus": 1, "gpu_model": "a10",
        "time_limit_seconds": 86400, "disk_mb": 100000, "output_mb": 100,
    }  # fmt: skip


def test_disk_quota_and_output_cap_may_be_set():
    hw = parse_hardware("z", {"cpus": 1, "memory_gb": 1, "time_limit": 60, "disk_gb": 0.05,
                              "output_mb": 1})  # fmt: skip
    assert (hw.as_run_limits()["disk_mb"], hw.as_run_limits()["output_mb"]) == (50, 1)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({**A10, "cpu": 4}, "gpu-box: Additional properties are not allowed ('cpu' was"),
        ({"cpus": 1, "time_limit": 60}, "gpu-box: 'memory_gb' is a required property"),
        ({**A10, "cpus": 0}, "gpu-box.cpus: 0 is less than the minimum of 1"),
        ({**A10, "cpus": "36"}, "gpu-box.cpus: '36' is not of type 'integer'"),
        ({**A10, "cpus": True}, "gpu-box.cpus: True is not of type 'integer'"),
        ({**A10, "memory_gb": "440GB"}, "gpu-box.memory_gb: '440GB' is not of type 'number'"),
        ({**A10, "memory_gb": 0}, "gpu-box.memory_gb: 0 is less than or equal to the minimum"),
        ({**A10, "time_limit": "24 hours"}, "gpu-box.time_limit: '24 hours' does not match"),
        ({**A10, "time_limit": "0h"}, "gpu-box.time_limit: must be longer than 0 seconds"),
        ({**A10, "gpus": {"count": 1, "modle": "a10"}}, "gpu-box.gpus: Additional properties"),
        ({**A10, "gpus": {"count": -1}}, "gpu-box.gpus.count: -1 is less than the minimum of 0"),
        ({**A10, "gpus": {"count": 1, "model": "A10 24GB"}}, "gpu-box.gpus.model: 'A10 24GB'"),
        ({**A10, "gpus": {"count": 0, "model": "a10"}}, "gpu-box.gpus.count: 0 is less than"),
        ({**A10, "gpus": {"model": "a10"}}, "gpu-box.gpus.count: 0 is less than the minimum of 1"),
        ({**A10, "gpus": "a10"}, "gpu-box.gpus: 'a10' is not valid under any"),
    ],
)  # fmt: skip
def test_bad_specs_are_rejected_naming_file_config_and_key(tmp_path, spec, message):
    path = write(tmp_path, {"gpu-box": spec})
    with pytest.raises(HardwareError) as err:
        load_hardware(path)
    assert str(err.value).startswith(f"{path} is invalid:\n")
    assert message in str(err.value)


def test_parsing_one_spec_leaves_it_as_given():
    spec = {"cpus": 1, "memory_gb": 1, "time_limit": 60}
    assert parse_hardware("x", spec).gpus == 0
    assert spec == {"cpus": 1, "memory_gb": 1, "time_limit": 60}


def test_bad_files_are_rejected_with_the_path(tmp_path):
    with pytest.raises(HardwareError, match="hardware file not found: .*missing.yaml"):
        load_hardware(tmp_path / "missing.yaml")
    with pytest.raises(HardwareError, match="not valid YAML"):
        load_hardware(write(tmp_path, "a: [1, 2\n"))
    with pytest.raises(HardwareError, match="'cpu-small'] is not of type 'object'"):
        load_hardware(write(tmp_path, "- cpu-small\n"))
    with pytest.raises(HardwareError, match="should be non-empty"):
        load_hardware(write(tmp_path, "{}\n"))
    with pytest.raises(HardwareError, match="'two words' does not match"):
        load_hardware(write(tmp_path, {"two words": A10}))


# --- Snakemake resources ---------------------------------------------------------------------


def test_slurm_resources_for_a_gpu_config():
    hw = parse_hardware("mlebench-a10", A10)
    assert slurm_resources(hw, margin_minutes=30) == {
        "runtime": 24 * 60 + 30, "mem_mb": 440000, "cpus_per_task": 36, "gpu": 1,
        "gpu_model": "a10",
    }  # fmt: skip


def test_slurm_resources_for_a_cpu_config_round_the_limit_up_to_minutes():
    hw = parse_hardware("odd", {"cpus": 2, "memory_gb": 4, "time_limit": "10m1s"})
    assert slurm_resources(hw, margin_minutes=0) == {
        "runtime": 11, "mem_mb": 4000, "cpus_per_task": 2,
    }  # fmt: skip
    with pytest.raises(ValueError, match="margin_minutes"):
        slurm_resources(hw, margin_minutes=-1)


# --- the sbatch call the Slurm executor plugin builds from them -------------------------------
# No GPU (and no Slurm) is needed: the plugin's own argument builders run on a stand-in job that
# carries only what they read (resources and threads).


class _Resources(dict):
    __getattr__ = dict.__getitem__


class _FakeJob:
    def __init__(self, resources: dict, threads: int = 1):
        self.resources = _Resources(resources)
        self.threads = threads


def sbatch_args(resources: dict, threads: int = 1) -> list[str]:
    submit = pytest.importorskip("snakemake_executor_plugin_slurm.submit_string")
    utils = pytest.importorskip("snakemake_executor_plugin_slurm.utils")
    job = _FakeJob(resources, threads)
    params = {
        "run_uuid": "run", "slurm_logfile": "log/%j.log", "comment_str": "rule_run_agent",
        "account": "", "partition": " -p main", "workdir": "/work",
    }  # fmt: skip
    return shlex.split(submit.get_submit_command(job, params) + utils.set_gres_string(job))


def test_sbatch_arguments_for_the_a10_config_without_a_gpu_mock_plugin_builder():
    hw = load_hardware(DEFAULT_FILE)["mlebench-a10"]
    args = sbatch_args(slurm_resources(hw, margin_minutes=30), threads=1)
    assert "--gpus=a10:1" in args
    assert "--cpus-per-task=36" in args  # from the resource, whatever the rule's threads
    assert args[args.index("--mem") + 1] == "440000"
    assert args[args.index("-t") + 1] == "1470"  # minutes
    assert not any(a.startswith("--ntasks") for a in args)  # GPU jobs: one task, set by Slurm


def test_sbatch_arguments_for_a_cpu_config():
    hw = load_hardware(DEFAULT_FILE)["cpu-small"]
    args = sbatch_args(slurm_resources(hw, margin_minutes=5), threads=1)
    assert not any(a.startswith(("--gpus", "--gres")) for a in args)
    assert "--ntasks=1" in args
    assert "--cpus-per-task=2" in args
    assert args[args.index("--mem") + 1] == "4000"
    assert args[args.index("-t") + 1] == "15"


def test_a_site_gpu_name_overrides_the_model_and_a_count_without_model_is_plain():
    hw = load_hardware(DEFAULT_FILE)["mlebench-a10"]
    site = {**slurm_resources(hw), "gpu_model": "nvidia_a10"}  # as set-resources would
    assert "--gpus=nvidia_a10:1" in sbatch_args(site)
    two = parse_hardware("two", {"cpus": 8, "memory_gb": 32, "time_limit": "1h", "gpus": 2})
    assert "--gpus=2" in sbatch_args(slurm_resources(two))
