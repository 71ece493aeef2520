"""Every `snakemake` command the README shows, planned (dry run) in a copy of the workflow as a
user would type it: `--config` overrides, the Slurm profile, reruns of one competition. The
mirror path of the examples is replaced by a folder holding a placeholder zip for each
competition, and the thresholds table's by a table with a row for each: all that planning looks
at."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from mlepipe.registry import Registry
from pipeline import REPO, Workflow, jobs_planned_text

pytestmark = pytest.mark.slow

EXAMPLE_MIRROR = "/data/kaggle-zips"
EXAMPLE_THRESHOLDS = "/data/thresholds.csv"


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("snakemake "):
                commands.append(line)
    return commands


def test_the_readme_shows_override_commands():
    commands = readme_commands()
    assert any("--config" in c and "seeds=" in c for c in commands), commands
    assert any("--profile slurm" in c for c in commands), commands


def plan(command: str, tmp_path) -> str:
    """Plans `command` (a README command line) in a fresh copy of the workflow; its output."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["data_dir"] = str(tmp_path / "data")
    wf = Workflow(tmp_path / "wf", config)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    ids = Registry(REPO / "competitions").ids()
    for cid in ids:
        (mirror / f"{cid}.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    table = tmp_path / "thresholds.csv"
    rows = [f"{c},0.9,0.8,0.7,0.5,False" for c in ids]
    head = "competition_id,gold_threshold,silver_threshold,bronze_threshold,median_threshold,"
    table.write_text(head + "is_lower_better\n" + "\n".join(rows) + "\n")
    command = command.replace(EXAMPLE_MIRROR, str(mirror)).replace(EXAMPLE_THRESHOLDS, str(table))
    args = shlex.split(command)[1:]
    proc = wf.snakemake("-n", *args, cores=False, check=False, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{command}\n{out[-3000:]}"
    assert "This was a dry-run" in out or "Nothing to be done" in out, out[-2000:]
    return out


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_plans(command, tmp_path):
    plan(command, tmp_path)


def test_excluding_known_issues_plans_the_rest(tmp_path):
    command = next(c for c in readme_commands() if "exclude_known_issues=true" in c)
    jobs = jobs_planned_text(plan(command, tmp_path))
    everything = Registry(REPO / "competitions").ids()
    # Only the two competitions whose known issues invalidate a medal are left out.
    assert jobs["prepare_competition"] == len(everything) - 2
