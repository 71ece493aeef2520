"""The competition registry: loads and validates `competitions/<id>/competition.yaml`.

A competition is data (the YAML) plus, only where it really needs it, a little code in its folder
(`prepare.py`, `grade.py`). Everything else about the benchmark is derived from these files.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from mlepipe.schemas import ConfigError, validate

PACKAGE_DIR = Path(__file__).resolve().parent

# Split names an experiment may use. split75 and lite are derived from the per-competition fields.
SPLIT_ALIASES = {"lite": "low"}
DERIVED_SPLITS = {"split75": ("low", "medium", "high")}
SPLIT_NAMES = ("low", "lite", "medium", "high", "split75", "dev", "systemcard", "practice", "all")
# MLE-bench's MD5s of the prepared files, beside competition.yaml (scripts/reference_checksums.py).
REFERENCE_CHECKSUMS = "reference_checksums.yaml"


class RegistryError(ConfigError):
    """A competition definition is missing or malformed."""


class UnknownCompetition(RegistryError):
    pass


def close_names(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates most like ``name`` (difflib's ratio, case ignored), best first.

    Only near-equals of the best are kept, so that 'practise' suggests the split 'practice'
    and not every practice-* competition as well."""
    scored = sorted(
        (-difflib.SequenceMatcher(None, name.lower(), c.lower()).ratio(), c)
        for c in set(candidates)
    )
    best = -scored[0][0] if scored else 0.0
    return [c for score, c in scored[:n] if -score >= max(cutoff, best - 0.1)]


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = close_names(name, candidates)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def default_competitions_dir() -> Path:
    """`$MLEPIPE_COMPETITIONS_DIR`, else the `competitions/` folder beside the package."""
    env = os.environ.get("MLEPIPE_COMPETITIONS_DIR")
    if env:
        return Path(env)
    return PACKAGE_DIR.parent / "competitions"


@dataclass(frozen=True)
class Competition:
    id: str
    name: str
    folder: Path
    spec: dict[str, Any] = field(repr=False)

    # --- declared facts -------------------------------------------------------------------
    @property
    def kaggle_slug(self) -> str | None:
        if self.practice:
            return None
        return self.spec.get("kaggle_slug") or self.id

    @property
    def category(self) -> str:
        return self.spec["category"]

    @property
    def practice(self) -> bool:
        return self.spec["practice"]

    @property
    def awards_medals(self) -> bool:
        return bool(self.spec["awards_medals"]) and not self.practice

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.spec["splits"])

    @property
    def source(self) -> dict[str, Any]:
        return self.spec["source"]

    @property
    def grading(self) -> dict[str, Any]:
        return self.spec["grading"]

    @property
    def preparation(self) -> dict[str, Any]:
        return self.spec["preparation"]

    @property
    def known_issues(self) -> list[dict[str, Any]]:
        return list(self.spec["known_issues"])

    @property
    def metric_name(self) -> str:
        return self.grading["metric"]

    @cached_property
    def reference_checksums(self) -> dict[str, Any] | None:
        """MLE-bench's published MD5s (`download`, and `prepared`: {path under prepared/: md5}),
        or None where it publishes none (practice competitions)."""
        path = self.folder / REFERENCE_CHECKSUMS
        if not path.is_file():
            return None
        try:
            reference = _read_yaml(path)
        except yaml.YAMLError as exc:
            raise RegistryError(f"{path} is not valid YAML: {exc}") from None
        validate("reference_checksums", reference, str(path), RegistryError)
        return reference

    @property
    def checksum_deviations(self) -> dict[str, str]:
        """Prepared files (paths under prepared/, or `all`) whose bytes knowingly differ from
        MLE-bench's, each with the summary of the known issue that documents it."""
        out = {}
        for issue in self.known_issues:
            files = issue.get("checksums_differ") or []
            for path in [files] if isinstance(files, str) else files:
                out[path] = issue["summary"]
        return out

    # --- files in the data dir (MLE-bench's layout) ------------------------------------------
    def root(self, data_dir: Path) -> Path:
        return Path(data_dir) / self.id

    def raw_dir(self, data_dir: Path) -> Path:
        return self.root(data_dir) / "raw"

    def zip_path(self, data_dir: Path) -> Path:
        return self.root(data_dir) / f"{self.id}.zip"

    def prepared_dir(self, data_dir: Path) -> Path:
        return self.root(data_dir) / "prepared"

    def public_dir(self, data_dir: Path) -> Path:
        return self.prepared_dir(data_dir) / "public"

    def private_dir(self, data_dir: Path) -> Path:
        return self.prepared_dir(data_dir) / "private"

    def answers_path(self, data_dir: Path) -> Path:
        return self.prepared_dir(data_dir) / self.spec["files"]["answers"]

    def sample_submission_path(self, data_dir: Path) -> Path:
        return self.prepared_dir(data_dir) / self.spec["files"]["sample_submission"]

    def checksums_path(self, data_dir: Path) -> Path:
        """Our record of the prepared files' MD5s, outside public/ and private/."""
        return self.root(data_dir) / "checksums.yaml"

    # --- texts and code ------------------------------------------------------------------------
    @property
    def description(self) -> str:
        return (self.folder / "description.md").read_text(encoding="utf-8")

    @property
    def description_obfuscated(self) -> str:
        return (self.folder / "description_obfuscated.md").read_text(encoding="utf-8")

    def module(self, filename: str) -> ModuleType:
        """Imports a Python file of this competition's folder (e.g. `prepare.py`)."""
        path = self.folder / filename
        if not path.is_file():
            raise RegistryError(f"{self.id}: {path} does not exist (named in competition.yaml)")
        name = f"mlepipe_competition_{self.id.replace('-', '_')}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    @cached_property
    def grade_module(self) -> ModuleType | None:
        code = self.grading.get("code")
        return self.module(code) if code else None

    def source_files(self) -> list[Path]:
        """Files whose content defines this competition (for staleness tracking)."""
        return sorted(p for p in self.folder.iterdir() if p.is_file() and p.suffix != ".pyc")


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where available


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def load_competition(folder: Path) -> Competition:
    path = folder / "competition.yaml"
    if not path.is_file():
        raise RegistryError(f"{folder} has no competition.yaml")
    try:
        spec = _read_yaml(path)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path} is not valid YAML: {exc}") from None
    validate("competition", spec, str(path), RegistryError)
    if spec["id"] != folder.name:
        raise RegistryError(f"{path}: id '{spec['id']}' differs from its folder '{folder.name}'")
    for name in ("description.md", "description_obfuscated.md"):
        if not (folder / name).is_file():
            raise RegistryError(f"{folder} lacks {name}")
    prep = spec["preparation"]
    if bool(prep.get("code")) == bool(prep.get("kind")):
        raise RegistryError(f"{path}: preparation needs exactly one of 'code' or 'kind'")
    return Competition(id=spec["id"], name=spec["name"], folder=folder, spec=spec)


class Registry:
    """All competitions under one folder, loaded lazily and validated once."""

    def __init__(self, competitions_dir: Path | None = None):
        self.dir = Path(competitions_dir or default_competitions_dir())
        if not self.dir.is_dir():
            raise RegistryError(f"competitions folder {self.dir} does not exist")
        self._cache: dict[str, Competition] = {}

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.dir.iterdir() if (p / "competition.yaml").is_file())

    def get(self, competition_id: str) -> Competition:
        if competition_id not in self._cache:
            folder = self.dir / competition_id
            if not (folder / "competition.yaml").is_file():
                hint = _did_you_mean(competition_id, self.ids())
                raise UnknownCompetition(f"unknown competition '{competition_id}'.{hint}")
            self._cache[competition_id] = load_competition(folder)
        return self._cache[competition_id]

    def all(self) -> list[Competition]:
        return [self.get(i) for i in self.ids()]

    def split(self, name: str) -> list[str]:
        """Competition ids of a split (low/lite, medium, high, split75, dev, systemcard, practice,
        all)."""
        name = SPLIT_ALIASES.get(name, name)
        if name not in SPLIT_NAMES:
            raise RegistryError(f"unknown split '{name}'; known: {', '.join(SPLIT_NAMES)}")
        if name == "all":
            return self.ids()
        members = set(DERIVED_SPLITS.get(name, (name,)))
        return [cid for cid, splits in self._splits().items() if splits & members]

    def _splits(self) -> dict[str, set[str]]:
        """Each competition's split names, read without validating every definition (planning
        an experiment then validates only the competitions it uses)."""
        if not hasattr(self, "_split_index"):
            self._split_index = {}
            for cid in self.ids():
                if cid in self._cache:
                    self._split_index[cid] = set(self._cache[cid].splits)
                    continue
                spec = _read_yaml(self.dir / cid / "competition.yaml")
                splits = spec.get("splits") if isinstance(spec, dict) else None
                self._split_index[cid] = set(splits or ())
        return self._split_index

    def resolve(self, names: Iterable[str]) -> list[str]:
        """Expands a list of competition ids and split names into ids (order kept, no repeats)."""
        out: list[str] = []
        for name in names:
            if name in SPLIT_NAMES or name in SPLIT_ALIASES:
                ids = self.split(name)
            elif (self.dir / name / "competition.yaml").is_file():
                ids = [self.get(name).id]
            else:
                # Either kind of name may be meant: suggest from both.
                hint = _did_you_mean(name, [*SPLIT_NAMES, *SPLIT_ALIASES, *self.ids()])
                raise UnknownCompetition(f"unknown competition or split '{name}'.{hint}")
            out.extend(i for i in ids if i not in out)
        return out
