"""Facts the Snakemake rules need, kept here so that they are tested like the rest: the
experiment's configuration as Snakemake hands it over, what each job's result depends on
(digests used as rule params), and the checks made before any job starts."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from mlepipe.descriptions import Description
from mlepipe.registry import PACKAGE_DIR, Competition, Registry

# --- the experiment's configuration ----------------------------------------------------------


def coerce_config(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Values given as text on the command line (`--config seeds=[0,1,2] agents=dummy`) turned
    into what the schema asks for: Snakemake parses list items as strings, and a single value
    where a list is expected. Values that cannot be read stay as they are, for validation to
    name them. Changes `config` in place and returns it."""
    for key, prop in schema.get("properties", {}).items():
        if key in config:
            config[key] = _coerce(config[key], prop)
    return config


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _coerce(value: Any, prop: dict[str, Any]) -> Any:
    types = _types(prop)
    if isinstance(value, bool) and "boolean" in types:
        return value
    if isinstance(value, str) and "boolean" in types:
        if value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
    if "array" in types:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("[") and text.endswith("]"):
                text = text[1:-1]
            value = [v.strip() for v in text.split(",") if v.strip()]
        elif not isinstance(value, list):
            value = [value]
        return [_coerce(v, prop.get("items", {})) for v in value]
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "null" in types and text.lower() in ("null", "none", "~", ""):
        return None
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    return value


def excluded_severities(setting: bool | list[str]) -> set[str]:
    """`exclude_known_issues` as a set of severities: true means those that invalidate."""
    if setting is True:
        return {"invalidates"}
    return set(setting or ())


def experiment_competitions(
    registry: Registry, names: list[str], exclude_known_issues: bool | list[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """The experiment's competition ids, and those dropped for known issues of the severities
    the experiment excludes (with the issues that dropped them)."""
    ids = registry.resolve(names)
    severities = excluded_severities(exclude_known_issues)
    if not severities:
        return ids, []
    kept, excluded = [], []
    for cid in ids:
        issues = [i for i in registry.get(cid).known_issues if i["severity"] in severities]
        if issues:
            reason = "; ".join(f"[{i['severity']}] {i['summary']}" for i in issues)
            excluded.append({"competition_id": cid, "reason": reason})
        else:
            kept.append(cid)
    return kept, excluded


def data_source_error(
    competitions: list[Competition], data_dir: Path, mirror: Path | None
) -> str | None:
    """Checked before any job starts: every real competition can be obtained (already prepared,
    its zip already in the data dir, in the mirror, or through Kaggle with credentials).
    Returns one message naming what is missing and the ways out, or None."""
    from mlepipe.prepare import is_prepared
    from mlepipe.sources import has_kaggle_credentials, kaggle_rules_page

    def obtainable(c: Competition) -> bool:
        if c.practice or c.source["kind"] == "sklearn":
            return True
        if is_prepared(c, data_dir) or c.zip_path(data_dir).is_file():
            return True
        if mirror is not None:
            return (Path(mirror) / f"{c.id}.zip").is_file()
        return has_kaggle_credentials()

    missing = [c for c in competitions if not obtainable(c)]
    if not missing:
        return None
    names = ", ".join(c.id for c in missing[:8])
    if len(missing) > 8:
        names += f" and {len(missing) - 8} more"
    rules = kaggle_rules_page(missing[0].kaggle_slug)
    where = f"not in the mirror {mirror}" if mirror is not None else "no mirror is set"
    return (
        f"data: {len(missing)} competition(s) cannot be obtained ({where}, and no Kaggle "
        f"credentials were found): {names}. Either stage <id>.zip files as `kaggle competitions "
        "download -c <id>` delivers them and set 'mirror' to their directory, or put a Kaggle "
        "API token in ~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY) and accept "
        f"each competition's rules on its Kaggle page, e.g. {rules}"
    )


# --- what a result depends on ----------------------------------------------------------------
#
# Each digest is a rule param, so Snakemake reruns exactly the jobs whose concern changed:
# preparation (re-prepare, then rerun that competition's runs), grading (regrade only) and agents
# (rerun that agent's runs only). Code is followed through its imports inside the package.

# Left out of every closure: how a raw zip is obtained (the zip is checked by MD5 and is a rule
# input; practice zips are built by mlepipe.practice, named only for practice competitions) and
# how definitions are loaded (the digests hash the loaded definition itself).
NOT_FOLLOWED = frozenset({"mlepipe.sources", "mlepipe.practice", "mlepipe.registry"})


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The file of a module of the package (`mlepipe.a.b`), or None if it is not one."""
    parts = name.split(".")
    if parts[0] != "mlepipe":
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, package_dir: Path) -> str:
    rel = path.relative_to(package_dir).with_suffix("")
    parts = ["mlepipe", *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path, package_dir: Path) -> set[str]:
    """Package modules a file imports, lazily inside functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path, package_dir) if _under(path, package_dir) else ""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def module_closure(roots: Iterable[str | Path], package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The files of the given modules (names or paths) and of every package module they import,
    transitively, with the `__init__.py` of each package on the way. Sorted, no repeats."""
    seen: set[Path] = set()
    todo: list[Path] = []

    def add(name_or_path: str | Path) -> None:
        if isinstance(name_or_path, Path):
            path = name_or_path
        else:
            if name_or_path in NOT_FOLLOWED:
                return
            path = module_file(name_or_path, package_dir)
            if path is None:
                return
            parts = name_or_path.split(".")
            for i in range(1, len(parts)):  # importing a.b.c runs a/__init__ and a/b/__init__
                init = module_file(".".join(parts[:i]), package_dir)
                if init is not None and init not in seen:
                    seen.add(init)
                    todo.append(init)
        if path not in seen:
            seen.add(path)
            todo.append(path)

    for root in roots:
        add(root)
    while todo:
        for name in sorted(_imported_names(todo.pop(), package_dir)):
            add(name)
    return sorted(seen)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, default=str)


@cache
def _file_digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digest(paths: Iterable[Path], data: Any = None, root: Path | None = None) -> str:
    """A short digest of files' contents (named relative to `root` where given) and of JSON data."""
    h = hashlib.sha256(_canonical(data).encode())
    for p in sorted({Path(p) for p in paths}):
        name = p.relative_to(root) if root and _under(p, root) else p.name
        h.update(str(name).encode())
        h.update(_file_digest(p, p.stat().st_mtime_ns).encode())
    return h.hexdigest()[:16]


def _competition_code(
    competition: Competition, name: str | None, package_dir: Path = PACKAGE_DIR
) -> list[Path]:
    """A competition's own code file (possibly another competition's folder) and the package
    modules it imports."""
    if not name:
        return []
    return module_closure([(competition.folder / name).resolve()], package_dir)


def preparation_files(competition: Competition, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Code and texts whose content decides the prepared files."""
    roots: list[str | Path] = ["mlepipe.prepare"]
    kind = competition.preparation.get("kind")
    if kind:  # resolved by name at run time: mlepipe.preparers[.<module>].<function>
        module = kind.rpartition(".")[0]
        roots.append("mlepipe.preparers" + (f".{module}" if module else ""))
    if competition.source["kind"] == "sklearn":
        roots.append("mlepipe.practice")
    files = module_closure(roots, package_dir)
    files += _competition_code(competition, competition.preparation.get("code"), package_dir)
    files += [
        competition.folder / "description.md",
        competition.folder / "description_obfuscated.md",
    ]
    return files


def preparation_digest(competition: Competition, package_dir: Path = PACKAGE_DIR) -> str:
    # Left out: reference_checksums.yaml and the known issues' checksums_differ. MLE-bench's
    # MD5s decide whether a preparation is accepted, not what it writes, so refreshing them
    # must not re-prepare (hours for the large competitions) into the same bytes.
    spec = competition.spec
    blocks = {k: spec.get(k) for k in ("source", "files", "preparation", "kaggle_slug")}
    return digest(preparation_files(competition, package_dir), blocks, package_dir.parent)


def grading_files(competition: Competition, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Code whose content decides a grade: every module of the grading subpackage
    (mlepipe/grading/), the metrics and the competition's own grader. The grader's version
    (`grading_digest`) is a digest of these and of the competition's grading definition."""
    grading = sorted((package_dir / "grading").glob("*.py"))
    files = module_closure([*grading, "mlepipe.metrics"], package_dir)
    return files + _competition_code(competition, competition.grading.get("code"), package_dir)


def grading_digest(
    competition: Competition, package_dir: Path = PACKAGE_DIR, variant: str = "mlebench"
) -> str:
    """The grading block as validated (schema defaults filled in), the answers' location, the
    grading code, and the headline grading variant (which a grade's MLE-bench fields follow)."""
    spec = competition.spec
    blocks = {"grading": spec["grading"], "files": spec["files"], "practice": competition.practice}
    blocks["grading_variant"] = variant
    return digest(grading_files(competition, package_dir), blocks, package_dir.parent)


def put_interpreter_on_path() -> None:
    """Puts the running interpreter's bin/ first on PATH, so that jobs' `python` is the one
    running Snakemake, also when its environment was not activated and inside Slurm jobs (which
    run the workflow again with the same interpreter)."""
    bin_dir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"


# --- results whose provenance is missing -------------------------------------------------------


def _read_record(path: Path) -> dict[str, Any] | None:
    """A JSON record, {} where it is unreadable, None where it does not exist."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stale_run(
    run_path: Path, agent_version: str, description: Description | None = None
) -> str | None:
    """Why an existing run.json is no result for the current agent and task text, or None (also
    where there is no run.json: Snakemake redoes a missing output by itself).

    Snakemake compares params (the agent version) with its metadata, which is missing for runs
    that jobs finished while Snakemake was not running (an orphaned Slurm job) or after
    `.snakemake/` was removed: such runs would be kept silently. run.json carries its own
    provenance."""
    run = _read_record(run_path)
    if run is None:
        return None
    if not run:
        return "run.json is unreadable"
    if run.get("agent_version") != agent_version:
        return "run.json records another agent version"
    if run.get("status") == "cancelled":
        return "the run was cancelled"
    if description is not None:
        # Runs recorded before descriptions were recorded were given the project's own text.
        given = run.get("description") or {"source": "own"}
        if given.get("source") != description.source:
            return f"run.json records another description source ({given.get('source')})"
        if description.overrides and given.get("sha256") != description.sha256:
            return "run.json records another description text"
    return None


def stale_grade(grade_path: Path, grading_version: str, run_path: Path) -> str | None:
    """Why an existing grade is no grade of its run for the current grading code, or None: it
    records another grading version (or none), or another attempt of the run than run.json."""
    grade = _read_record(grade_path)
    if grade is None:
        return None
    if not grade or grade.get("grading_version") != grading_version:
        return "the grade records another grading version (or none)"
    run = _read_record(run_path)
    if run is not None and grade.get("run_id") != run.get("run_id"):
        return "the grade is of another attempt of its run"
    return None
