"""Running the real Snakemake workflow from tests: a copy of the workflow in a temporary folder
(so tests may edit its files), its own results and data folders, and helpers to read outcomes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def needs_bubblewrap_and_mirror() -> Path:
    """The reference data beside the checkout (../shared), for a test module that runs agents
    under bubblewrap on real Kaggle data; skips the whole module, saying what is missing,
    without either."""
    import pytest

    if not shutil.which("bwrap"):
        pytest.skip(
            "bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True
        )
    shared = REPO.parent / "shared"
    if not (shared / "kaggle-mirror").is_dir():
        pytest.skip(
            f"no Kaggle mirror at {shared / 'kaggle-mirror'} (optional)", allow_module_level=True
        )
    return shared


WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "report", "config", "profiles", "slurm")
BIN = Path(sys.executable).parent


class Workflow:
    """A copy of the workflow. With `own_code=True` it also gets its own copy of the package and
    of the competition definitions, which its jobs use (PYTHONPATH), so that a test may edit
    them."""

    def __init__(
        self,
        root: Path,
        config: dict,
        agents: dict | None = None,
        hardware: dict | None = None,
        own_code: bool = False,
    ):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {}
        if own_code:
            ignore = shutil.ignore_patterns("__pycache__")
            for part in ("mlepipe", "competitions"):
                shutil.copytree(REPO / part, root / part, ignore=ignore)
            self.env = {
                "PYTHONPATH": str(root),
                "MLEPIPE_COMPETITIONS_DIR": str(root / "competitions"),
            }
        for part in WORKFLOW_PARTS:
            src = REPO / part
            if src.is_symlink():  # the `slurm` profile link
                os.symlink(os.readlink(src), root / part)
            else:
                (shutil.copytree if src.is_dir() else shutil.copy)(src, root / part)
        if agents is not None:
            self.write_yaml("config/agents.yaml", agents)
        if hardware is not None:
            self.write_yaml("config/hardware.yaml", hardware)
        self.config = config
        self.write_yaml("config/config.yaml", config)

    def write_yaml(self, rel: str, data) -> None:
        (self.root / rel).write_text(yaml.safe_dump(data, sort_keys=False))

    def snakemake(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 600,
        env: dict | None = None,
        cores: bool = True,
    ) -> subprocess.CompletedProcess:
        # A hung Slurm executor ignores SIGTERM: `timeout -k` ends it for sure.
        cmd = ["timeout", "-k", "10", str(int(timeout)), str(BIN / "snakemake")]
        cmd += [*(["--cores", "2"] if cores else []), *args]
        proc = subprocess.run(
            cmd, cwd=self.root, capture_output=True, text=True, timeout=timeout + 30,
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **self.env, **(env or {})},
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(
                f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        return proc

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "snakemake"), "--cores", "2", *args], cwd=self.root,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **self.env},
        )  # fmt: skip

    @property
    def results(self) -> Path:
        return self.root / self.config.get("results_dir", "results")

    def runs(self) -> dict[tuple[str, str, str, int], dict]:
        out = {}
        for path in sorted(self.results.glob("runs/*/*/*/*/run.json")):
            r = json.loads(path.read_text())
            out[(r["agent"], r["hardware"], r["competition_id"], r["seed"])] = r
        return out

    def grades(self) -> dict[tuple[str, str, str, int], dict]:
        out = {}
        for path in sorted(self.results.glob("grades/*/*/*/*.json")):
            g = json.loads(path.read_text())
            out[(g["agent"], g["hardware"], g["competition_id"], g["seed"])] = g
        return out

    def edited(self, rel: str, text: str | None = None):
        """A context in which the file `rel` of the copy ends with an extra line (or holds
        `text`); the original content is put back afterwards."""
        return _Edited(self.root / rel, text)

    def mtimes(self, pattern: str) -> dict[str, int]:
        return {
            str(p.relative_to(self.results)): p.stat().st_mtime_ns
            for p in self.results.glob(pattern)
        }


def jobs_planned(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from a dry run's 'Job stats' table."""
    return jobs_planned_text(proc.stdout + proc.stderr)


def jobs_planned_text(output: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3 :]:
                parts = row.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    break
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            break
    return counts


class _Edited:
    def __init__(self, path: Path, text: str | None):
        self.path, self.text = path, text

    def __enter__(self) -> Path:
        self.original = self.path.read_bytes()
        new = self.text if self.text is not None else self.original.decode() + "\n# edited\n"
        self.path.write_text(new)
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.path.write_bytes(self.original)
