"""Which task text an agent is given as /home/data/description.md.

An experiment's `descriptions:` names the source:

- `own`: the project's own description (competitions/<id>/description.md), the one preparation
  writes into the public files;
- `own-obfuscated`: the project's own obfuscated one (description_obfuscated.md);
- `mlebench`, `mlebench-obfuscated`: MLE-bench's texts, read from a local checkout of its
  repository (`mlebench_checkout:`), `mlebench/competitions/<id>/description.md` or
  `description_obfuscated.md`. The project ships none of MLE-bench's text.

The prepared data are shared by every experiment, so they keep the project's own text: any other
source is a file that the sandbox shows over the prepared description.md. The SHA-256 of the text
given is recorded in run.json and is part of the run's version (a rerun trigger).

May import the standard library and the registry only: the rules, the harness and the CLI use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mlepipe.registry import Competition
from mlepipe.schemas import ConfigError

SOURCES = ("own", "own-obfuscated", "mlebench", "mlebench-obfuscated")
DEFAULT_SOURCE = "own"
# Where MLE-bench keeps one folder per competition, relative to its checkout.
MLEBENCH_COMPETITIONS = Path("mlebench") / "competitions"
# The first line of a file that Git LFS left as a pointer (`git lfs pull` not run).
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"


def is_lfs_pointer(path: Path) -> bool:
    """Whether the file is a Git LFS pointer in place of its content."""
    with open(path, "rb") as f:
        return f.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX


def lfs_pointer_error(path: Path, checkout: Path) -> str:
    return f"{path} is a Git LFS pointer, not the {_what(path)}: run `git lfs pull` in {checkout}"


def _what(path: Path) -> str:
    return "leaderboard" if path.name == "leaderboard.csv" else "file"


def is_mlebench_checkout(path: Path) -> bool:
    """A directory laid out as MLE-bench's repository (mlebench/competitions/<id>/...)."""
    return (Path(path) / MLEBENCH_COMPETITIONS).is_dir()


def mlebench_checkout(path: str | Path | None, key: str = "mlebench_checkout") -> Path:
    """The checkout named in the experiment, made absolute; ConfigError when it is none."""
    if not path:
        raise ConfigError(f"{key} is not set: name a local checkout of MLE-bench's repository")
    folder = Path(path).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{key}: {folder} does not exist")
    if not is_mlebench_checkout(folder):
        raise ConfigError(
            f"{key}: {folder} is no MLE-bench checkout (it has no {MLEBENCH_COMPETITIONS}/)"
        )
    return folder


@dataclass(frozen=True)
class Description:
    """The text an agent gets: its source, its file, and the file's SHA-256. `overrides` says
    whether the file must be shown over the prepared description.md (every source but `own`)."""

    source: str
    path: Path
    sha256: str

    @property
    def overrides(self) -> bool:
        return self.source != "own"

    def record(self) -> dict[str, str]:
        """What run.json records of it."""
        return {"source": self.source, "sha256": self.sha256}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def description_path(competition: Competition, source: str, checkout: Path | None) -> Path:
    """The file of `source`'s text for the competition (not checked for existence)."""
    if source not in SOURCES:
        raise ConfigError(f"descriptions: '{source}' is not one of {', '.join(SOURCES)}")
    name = "description_obfuscated.md" if source.endswith("-obfuscated") else "description.md"
    if source.startswith("own"):
        return competition.folder / name
    if checkout is None:
        raise ConfigError(f"descriptions: {source} needs mlebench_checkout (a local checkout)")
    return Path(checkout) / MLEBENCH_COMPETITIONS / competition.id / name


def resolve(competition: Competition, source: str, checkout: Path | None) -> Description:
    """The description the competition's runs get; ConfigError (one line) when its file is
    missing or a Git LFS pointer."""
    path = description_path(competition, source, checkout)
    if not path.is_file():
        raise ConfigError(
            f"descriptions: {source} has no text for {competition.id} ({path} does not exist)"
        )
    if checkout is not None and is_lfs_pointer(path):
        raise ConfigError(f"descriptions: {lfs_pointer_error(path, checkout)}")
    return Description(source, path.resolve(), sha256_of(path))


def experiment_descriptions(
    competitions: list[Competition], source: str, checkout: str | Path | None
) -> dict[str, Description]:
    """Every competition's description, checked before any job starts."""
    folder = mlebench_checkout(checkout) if source.startswith("mlebench") else None
    return {c.id: resolve(c, source, folder) for c in competitions}
