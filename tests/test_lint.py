"""`make lint` and CI judge the workflow alike: Snakemake's lint is clean but for its advice to
give each rule its own conda environment, which both tolerate through .ci/snakemake-lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = REPO / ".ci" / "snakemake-lint"
CONDA_ADVICE = (
    "Lints for rule run_agent (line 1, rules/agents.smk):\n"
    "    * Specify a conda environment or container for each rule.:\n"
    "      This way, the used software for each specific step is documented.\n"
)


def _fake_snakemake(tmp_path: Path, output: str, status: int) -> Path:
    fake = tmp_path / "snakemake"
    fake.write_text(f"#!/bin/sh\ncat <<'END'\n{output}END\nexit {status}\n")
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize(
    ("output", "status", "passes"),
    [
        ("", 0, True),
        (CONDA_ADVICE, 1, True),
        (CONDA_ADVICE + "    * Mixed rules and functions in same snakefile.:\n", 1, False),
        ("SyntaxError in file Snakefile\n", 1, False),
    ],
)
def test_only_the_conda_advice_is_tolerated(tmp_path, output, status, passes):
    done = subprocess.run([LINT, _fake_snakemake(tmp_path, output, status)], capture_output=True)
    assert (done.returncode == 0) == passes, done.stdout


@pytest.mark.slow
def test_make_lint_passes_on_this_tree():
    venv = Path(sys.executable).parent.parent
    # -o: the environment counts as set up, so nothing is installed.
    done = subprocess.run(
        ["make", "lint", f"VENV={venv}", "-o", f"{venv}/bin/snakemake"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
