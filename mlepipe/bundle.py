"""The replay bundle: one archive that holds a finished experiment, so that another machine can
regrade it and rebuild its reports without running any agent.

Layout of the archive (a .tar.gz whose members all sit under `bundle/`):

  manifest.json        what the experiment was: package version, agents and their versions,
                       image ids and digests, models used per run, seeds, competitions, the
                       grading code's versions, the thresholds used, the prepared data's MD5s
  Snakefile, rules/, scripts/, report/
                       the workflow that ran it
  config/config.yaml   the experiment, with its paths pointed inside the bundle
  config/agents.yaml, hardware.yaml, prices.yaml
                       the files the experiment named, as they were
  config/original/     the experiment's own config file(s), unchanged
  agents/...           the agents' files the agents file names by relative path (code_dir,
                       build context, requirements), at the same relative place
  leaderboards/thresholds.csv
                       the medal thresholds the grades used, one row per competition
  checksums/<id>.yaml  each prepared competition's checksums.yaml
  results/runs/        every run directory minus `home/` (instructions the harness writes) and
                       `submission/` (the agent's raw output; `submission.csv` is what is graded)
  results/logs/runs/   the harness's log of each run
  original/grades/, original/reports/, original/competitions/
                       what the experiment reported, to compare the replay with

`replay_bundle` unpacks it into a fresh folder, checks that every run is current for the agents
as bundled (same agent version; otherwise it names the stale runs and stops), prepares the data
from a mirror and checks it against the bundle's MD5s, and runs Snakemake with every rule but the
agents' own (run_agent, agent_env, build_image): grades and reports are rebuilt from the runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import mlepipe
from mlepipe.registry import PACKAGE_DIR

FORMAT = "mlepipe-bundle/1"
TOP = "bundle"
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "report")
# Left out of each run directory: what the harness writes for the agent, and the agent's raw
# submission folder (what is graded is the extracted submission.csv beside it).
RUN_DIR_LEFT_OUT = ("home", "submission")
# Rules that run or set up agents: never run by a replay.
AGENT_RULES = ("run_agent", "agent_env", "build_image")
# Report files whose content holds the time they were made (leaderboard export: file names and
# created_at), left out of the comparison with the original.
TIMESTAMPED = ("leaderboard/runs/",)
# Spec keys of an agent that name files relative to the agents file.
AGENT_PATH_KEYS = ("code_dir", "build", "requirements", "sif")


class BundleError(Exception):
    """The bundle cannot be written or replayed as asked; the message says why."""


# --- export --------------------------------------------------------------------------------


def _load_config(config_files: list[Path]) -> dict[str, Any]:
    from mlepipe import schemas
    from mlepipe.pipeline import coerce_config

    config: dict[str, Any] = {}
    for path in config_files:
        config.update(yaml.safe_load(Path(path).read_text()) or {})
    schema = schemas.load_schema("experiment")
    coerce_config(config, schema)
    for key, prop in schema.get("properties", {}).items():
        if key not in config and "default" in prop:
            config[key] = prop["default"]
    return config


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _run_dirs(results: Path) -> list[Path]:
    return sorted(p.parent for p in results.glob("runs/*/*/*/*/run.json"))


def _package_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" not in path.parts:
            h.update(str(path.relative_to(PACKAGE_DIR)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _thresholds_used(grades: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per competition whose grades had thresholds; raises if two grades of one
    competition disagree (the experiment was graded against two sources)."""
    names = ["gold_threshold", "silver_threshold", "bronze_threshold", "median_threshold"]
    rows: dict[str, dict[str, Any]] = {}
    for g in grades:
        if not g.get("medals_known"):
            continue
        row = {"competition_id": g["competition_id"], **{n: g[n] for n in names}}
        row["is_lower_better"] = bool(g["is_lower_better"])
        row["source"] = g.get("thresholds_source") or ""
        seen = rows.setdefault(g["competition_id"], row)
        if any(seen[k] != row[k] for k in (*names, "is_lower_better")):
            raise BundleError(
                f"grades of {g['competition_id']} were made with different thresholds; "
                "regrade the experiment before exporting it"
            )
    columns = ["competition_id", *names, "is_lower_better", "source"]
    return pd.DataFrame(sorted(rows.values(), key=lambda r: r["competition_id"]), columns=columns)


def _agent_files(agents_file: Path, names: set[str]) -> tuple[list[tuple[Path, str]], list[str]]:
    """(file, name in the bundle) of each agent's files named by relative path, and notes on
    those that cannot travel (absolute paths, paths leaving the workflow folder). The agents
    file goes to config/, so each path keeps its meaning relative to it."""
    spec = yaml.safe_load(agents_file.read_text()) or {}
    base = agents_file.parent.resolve()
    out, notes = [], []
    for name in sorted(names & set(spec)):
        for key in AGENT_PATH_KEYS:
            value = spec[name].get(key)
            if not isinstance(value, str):
                continue
            target = _normalised(Path("config") / value)
            if Path(value).is_absolute() or ".." in Path(target).parts:
                notes.append(
                    f"agent {name}: {key} {value} is not carried (not a path under the "
                    "workflow); the replaying machine needs it at the same place"
                )
                continue
            source = (base / value).resolve()
            if source.is_file():
                out.append((source, target))
            for path in _plain_files(source):  # nothing for a file or a missing path
                if "__pycache__" not in path.parts:
                    out.append((path, f"{target}/{path.relative_to(source).as_posix()}"))
    return out, notes


def _normalised(path: Path) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append(part)
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


@dataclass
class _Archive:
    tar: tarfile.TarFile
    names: set[str] = field(default_factory=set)

    def add_file(self, path: Path, name: str) -> None:
        if name in self.names:
            return
        self.names.add(name)
        info = self.tar.gettarinfo(str(path), arcname=f"{TOP}/{name}")
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        with open(path, "rb") as f:
            self.tar.addfile(info, f)

    def add_bytes(self, data: bytes, name: str) -> None:
        self.names.add(name)
        info = tarfile.TarInfo(f"{TOP}/{name}")
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        self.tar.addfile(info, io.BytesIO(data))

    def add_tree(self, root: Path, name: str, left_out: tuple[str, ...] = ()) -> None:
        """Plain files under ``root``; symbolic links and special files are not followed."""
        for path in sorted(_plain_files(root, left_out)):
            self.add_file(path, f"{name}/{path.relative_to(root).as_posix()}")


def _plain_files(root: Path, left_out: tuple[str, ...] = ()) -> Iterator[Path]:
    if not root.is_dir() or root.is_symlink():
        return
    for entry in sorted(root.iterdir()):
        if entry.name in left_out or entry.name.startswith("."):
            continue
        if entry.is_symlink():
            continue
        if entry.is_dir():
            yield from _plain_files(entry)
        elif entry.is_file():
            yield entry


def export_bundle(
    results: Path, out: Path, config_files: list[Path], workflow: Path = Path(".")
) -> dict[str, Any]:
    """Writes the experiment under ``results`` (run with ``config_files``, from the workflow
    folder ``workflow``) into the archive ``out``; returns its manifest."""
    from mlepipe.agents.config import load_agents
    from mlepipe.registry import Registry

    results, workflow = Path(results), Path(workflow)
    config = _load_config([Path(p) for p in config_files])
    run_dirs = _run_dirs(results)
    if not run_dirs:
        raise BundleError(f"no runs under {results}/runs: nothing to export")
    grades_dir = results / "grades"
    grades = [_read_json(p) for p in sorted(grades_dir.glob("*/*/*/*.json"))]
    runs = [_read_json(d / "run.json") for d in run_dirs]
    agents_file = workflow / config["agents_file"]
    agents = load_agents(agents_file)
    used = {r["agent"] for r in runs}
    agent_files, notes = _agent_files(agents_file, used)
    registry = Registry()
    competitions = sorted({r["competition_id"] for r in runs})
    data_dir = workflow / config["data_dir"]
    checksums = {}
    for cid in competitions:
        path = registry.get(cid).checksums_path(data_dir)
        if not path.is_file():
            raise BundleError(f"{cid} is not prepared in {data_dir} (no {path})")
        checksums[cid] = path
    thresholds = _thresholds_used(grades)

    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "package": {"version": mlepipe.__version__, "code_digest": _package_digest()},
        "experiment": {
            "agents": sorted(used),
            "hardware": sorted({r["hardware"] for r in runs}),
            "competitions": competitions,
            "seeds": sorted({r["seed"] for r in runs}),
            "sandbox": config["sandbox"],
            "leaderboards_original": str(config["leaderboards"]),
        },
        "agents": {
            name: {"version": agents[name].version(), "spec": agents[name].spec}
            for name in sorted(used)
            if name in agents
        },
        "runs": [
            {
                "path": d.relative_to(results).as_posix(),
                "agent": r["agent"],
                "agent_version": r["agent_version"],
                "hardware": r["hardware"],
                "competition_id": r["competition_id"],
                "seed": r["seed"],
                "run_id": r["run_id"],
                "status": r["status"],
                "runner": r.get("runner"),
                "runner_identity": r.get("runner_identity") or {},
                "models": sorted((r.get("usage") or {}).get("by_model") or {}),
            }
            for d, r in zip(run_dirs, runs, strict=True)
        ],  # fmt: skip
        "grading_versions": {g["competition_id"]: g.get("grading_version") for g in grades},
        "thresholds": thresholds.drop(columns="source").to_dict("records"),
        "data_checksums": {cid: yaml.safe_load(p.read_text()) for cid, p in checksums.items()},
        "not_carried": notes,
    }

    replay_config = dict(yaml.safe_load(Path(config_files[-1]).read_text()) or {})
    for path in config_files[:-1]:
        replay_config = {**(yaml.safe_load(Path(path).read_text()) or {}), **replay_config}
    replay_config.update(
        data_dir="data", results_dir="results", mirror=None, envs_dir=None,
        agents_file="config/agents.yaml", hardware_file="config/hardware.yaml",
        prices_file="config/prices.yaml",
        leaderboards="thresholds:leaderboards/thresholds.csv" if len(thresholds) else "none",
    )  # fmt: skip

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz") as tar:
        archive = _Archive(tar)
        archive.add_bytes(json.dumps(manifest, indent=2, default=str).encode() + b"\n",
                          "manifest.json")  # fmt: skip
        for part in WORKFLOW_PARTS:
            src = workflow / part
            if src.is_dir():
                archive.add_tree(src, part)
            elif src.is_file():
                archive.add_file(src, part)
        archive.add_bytes(yaml.safe_dump(replay_config, sort_keys=False).encode(),
                          "config/config.yaml")  # fmt: skip
        for key, name in (("agents_file", "agents"), ("hardware_file", "hardware"),
                          ("prices_file", "prices")):  # fmt: skip
            src = workflow / config[key]
            if src.is_file():
                archive.add_file(src, f"config/{name}.yaml")
        for n, path in enumerate(config_files):
            archive.add_file(Path(path), f"config/original/{n}-{Path(path).name}")
        for path, name in agent_files:
            archive.add_file(path, name)
        archive.add_bytes(thresholds.drop(columns="source").to_csv(index=False).encode(),
                          "leaderboards/thresholds.csv")  # fmt: skip
        for cid, path in checksums.items():
            archive.add_file(path, f"checksums/{cid}.yaml")
        for d in run_dirs:
            rel = d.relative_to(results).as_posix()
            archive.add_tree(d, f"results/{rel}", RUN_DIR_LEFT_OUT)
        archive.add_tree(results / "logs" / "runs", "results/logs/runs")
        for part in ("grades", "reports", "competitions"):
            archive.add_tree(results / part, f"original/{part}")
    tmp.replace(out)
    return manifest


# --- replay --------------------------------------------------------------------------------


@dataclass
class Replay:
    folder: Path
    manifest: dict[str, Any]
    compared: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def unpack(bundle: Path, folder: Path) -> dict[str, Any]:
    """Unpacks the bundle into ``folder`` (new or empty); returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BundleError(f"{folder} is not empty: replay into a fresh folder")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(bundle, "r:gz") as tar:
        members = []
        for m in tar.getmembers():
            if m.name == TOP and m.isdir():
                continue
            if not m.name.startswith(f"{TOP}/") or not (m.isfile() or m.isdir()):
                raise BundleError(f"{bundle}: unexpected member {m.name!r}")
            m.name = m.name[len(TOP) + 1 :]
            members.append(m)
        tar.extractall(folder, members=members, filter="data")
    manifest = _read_json(folder / "manifest.json")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{bundle}: not a bundle of format {FORMAT}")
    return manifest


def stale_runs(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The bundle's runs that are no result for the agents as bundled here (the agent's
    version differs: other package code, another agent file), each with its reason."""
    from mlepipe.agents.config import load_agents
    from mlepipe.pipeline import stale_run

    agents = load_agents(folder / "config" / "agents.yaml")
    out = []
    for run in manifest["runs"]:
        agent = agents.get(run["agent"])
        if agent is None:
            out.append(f"{run['path']}: agent {run['agent']} is not in the bundled agents file")
            continue
        reason = stale_run(folder / "results" / run["path"] / "run.json", agent.version())
        if reason:
            out.append(f"{run['path']}: {reason}")
    return out


def missing_runs(folder: Path) -> list[str]:
    """Runs of the bundled experiment (agents x hardware x competitions x seeds of its config)
    that have no run.json in the bundle: a replay would have to run them."""
    from mlepipe.pipeline import experiment_competitions
    from mlepipe.registry import Registry

    config = _load_config([folder / "config" / "config.yaml"])
    competitions, _ = experiment_competitions(
        Registry(), config["competitions"], config["exclude_known_issues"]
    )
    return [
        f"runs/{a}/{h}/{c}/{s}"
        for a in config["agents"]
        for h in config["hardware"]
        for c in competitions
        for s in config["seeds"]
        if not (folder / "results" / "runs" / a / h / c / str(s) / "run.json").is_file()
    ]


def grading_changes(manifest: dict[str, Any]) -> list[str]:
    """Competitions whose grading code here is not the one that made the bundle's grades: they
    are regraded all the same, but their scores may differ from the bundle's."""
    from mlepipe.pipeline import grading_digest
    from mlepipe.registry import Registry

    registry = Registry()
    return [
        f"{cid}: the grading code here ({grading_digest(registry.get(cid))}) is not the "
        f"bundle's ({version}); its grades may differ"
        for cid, version in sorted(manifest["grading_versions"].items())
        if grading_digest(registry.get(cid)) != version
    ]


def _rules(folder: Path) -> list[str]:
    names = []
    for path in [folder / "Snakefile", *sorted((folder / "rules").glob("*.smk"))]:
        names += re.findall(r"^rule (\w+):", path.read_text(), flags=re.M)
    return names


def _snakemake(folder: Path, args: list[str], cores: int, log: Path) -> None:
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), *args]
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        proc = subprocess.run(cmd, cwd=folder, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise BundleError(f"snakemake failed ({proc.returncode}); see {log}")


def checksum_differences(folder: Path, manifest: dict[str, Any]) -> list[str]:
    from mlepipe.registry import Registry

    registry, out = Registry(), []
    for cid, expected in manifest["data_checksums"].items():
        path = registry.get(cid).checksums_path(folder / "data")
        got = yaml.safe_load(path.read_text()) if path.is_file() else None
        for part in ("zip", "public", "private"):
            if (got or {}).get(part) != expected.get(part):
                out.append(f"{cid}: the prepared {part} files differ from the bundle's MD5s")
    return out


def _report_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith(TIMESTAMPED)
    )


def replay_bundle(bundle: Path, folder: Path, mirror: Path | None, cores: int = 2) -> Replay:
    """Unpacks, checks, prepares the data and rebuilds grades and reports (no agent runs);
    then compares the reports with the bundle's own."""
    folder = Path(folder).resolve()
    manifest = unpack(Path(bundle), folder)
    replay = Replay(folder, manifest)
    if manifest["package"]["version"] != mlepipe.__version__:
        replay.notes.append(
            f"the bundle was made with mlepipe {manifest['package']['version']}, this is "
            f"{mlepipe.__version__}"
        )
    replay.notes += grading_changes(manifest)
    stale = stale_runs(folder, manifest) + [f"{r}: no run.json" for r in missing_runs(folder)]
    if stale:
        raise BundleError(
            f"{len(stale)} run(s) of the bundle would have to run again here, which a replay "
            "never does: " + "; ".join(stale[:10]) + (" ..." if len(stale) > 10 else "")
        )
    log = folder / "replay.log"
    # The agents' rules are not allowed: run.json files are inputs, whatever their dates.
    common = ["--allowed-rules", *[r for r in _rules(folder) if r not in AGENT_RULES]]
    if mirror:
        common += ["--config", f"mirror={Path(mirror).resolve()}"]
    common.append("--")
    targets = [f"data/{cid}/checksums.yaml" for cid in manifest["data_checksums"]]
    _snakemake(folder, common + targets, cores, log)
    differences = checksum_differences(folder, manifest)
    if differences:
        raise BundleError("the data prepared here is not the bundle's: " + "; ".join(differences))
    _snakemake(folder, common, cores, log)
    for part in ("reports", "competitions"):
        original, rebuilt = folder / "original" / part, folder / "results" / part
        for name in _report_files(original):
            replay.compared.append(f"{part}/{name}")
            new = rebuilt / name
            if not new.is_file() or new.read_bytes() != (original / name).read_bytes():
                replay.differing.append(f"{part}/{name}")
    return replay
