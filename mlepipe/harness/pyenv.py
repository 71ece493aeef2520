"""The Python environment inside a sandbox: which host folders make it work there.

The pipeline's own environment is bound read-only at its host path, so that its ``python`` and
console scripts run unchanged inside. A venv needs its base interpreter too, and editable
installs need the source folders their .pth files or finder modules point at.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path


def python_env_paths(python_env: Path) -> tuple[list[Path], list[str]]:
    """Host folders to bind read-only (at the same path) so ``python_env`` works inside, and
    notes naming the editable sources among them. Nothing under /usr (bound anyway)."""
    paths = [python_env, python_env.resolve()]
    cfg = python_env / "pyvenv.cfg"
    if cfg.is_file():
        values = _read_pyvenv_cfg(cfg)
        if "home" in values:
            paths.append(Path(values["home"]).resolve().parent)
        if "executable" in values:
            paths.append(Path(values["executable"]).resolve().parent.parent)
    for name in ("python3", "python"):
        exe = python_env / "bin" / name
        if exe.exists():
            paths.append(exe.resolve().parent.parent)
            break
    editable = _editable_sources(python_env)
    kept = _outermost(p for p in [*paths, *editable] if not _under(p, Path("/usr")))
    notes = [f"editable install: {p} is bound read-only" for p in kept if p in editable]
    return kept, notes


def python_envs_paths(python_envs: list[Path]) -> tuple[list[Path], list[str]]:
    """``python_env_paths`` of several environments together, without repeats."""
    paths: list[Path] = []
    notes: list[str] = []
    for env in python_envs:
        env_paths, env_notes = python_env_paths(env)
        paths += env_paths
        notes += [n for n in env_notes if n not in notes]
    return _outermost(paths), notes


def _read_pyvenv_cfg(cfg: Path) -> dict[str, str]:
    values = {}
    for line in cfg.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _editable_sources(python_env: Path) -> list[Path]:
    sources: list[Path] = []
    for site in python_env.glob("lib/python3*/site-packages"):
        for pth in site.glob("*.pth"):
            for line in pth.read_text(errors="replace").splitlines():
                line = line.strip()
                if not line or line.startswith(("#", "import ")):
                    continue
                path = (site / line).resolve()
                if path.is_dir() and not _under(path, python_env):
                    sources.append(path)
        for finder in site.glob("__editable__*finder.py"):
            text = finder.read_text(errors="replace")
            for value in _literal(text, "MAPPING").values():
                sources.append(Path(value))
            for values in _literal(text, "NAMESPACES").values():
                sources += [Path(v) for v in values]
    return [s for s in sources if s.exists()]


def _literal(source: str, name: str) -> dict:
    """The dict literal assigned to ``name`` at the top level of a setuptools finder module."""
    match = re.search(rf"^{name}\s*(?::[^=]*)?=\s*(\{{.*?\}})\s*$", source, re.M | re.S)
    try:
        value = ast.literal_eval(match.group(1)) if match else {}
    except (ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _outermost(paths) -> list[Path]:
    """Unique paths, dropping any that lies inside another one."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for p in unique:
        if not any(_under(p, k) for k in kept):
            kept.append(p)
    return kept
