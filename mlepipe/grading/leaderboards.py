"""Where medal thresholds come from. The project ships no leaderboard data; users point at one of:

- a directory of `<competition-id>.csv` leaderboards (Kaggle API layout or `rank,score`),
- a checkout of MLE-bench's repository: its `mlebench/competitions/<id>/leaderboard.csv` files
  (the Kaggle API's columns; Git LFS objects, present after `git lfs pull`),
- a thresholds table (competition_id, gold_threshold, ..., is_lower_better),
- `kaggle`: each leaderboard downloaded once through the Kaggle API into a cache directory
  (`kaggle_leaderboard`),
- `none`: no thresholds (reports show scores only; no medals are awarded).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from mlepipe.descriptions import (
    MLEBENCH_COMPETITIONS,
    is_lfs_pointer,
    is_mlebench_checkout,
    lfs_pointer_error,
)
from mlepipe.grading.medals import (
    LeaderboardError,
    Thresholds,
    read_thresholds_table,
    thresholds_from_leaderboard,
)
from mlepipe.registry import Competition

# The Kaggle client (credentials, retries, no prompts) is the one the data downloads use.
from mlepipe.sources import AcquisitionError, has_kaggle_credentials, kaggle_api, with_retries

KINDS = ("dir", "mlebench", "thresholds", "kaggle", "none")
DEFAULT_KAGGLE_CACHE = Path.home() / ".cache" / "mlepipe" / "leaderboards"
# The API chooses the largest page it serves; a larger request is clamped, not refused.
LEADERBOARD_PAGE_SIZE = 200


@dataclass(frozen=True)
class LeaderboardSource:
    """Where thresholds come from. `str(source)` is its one textual form (`none`, `kaggle:DIR`,
    `dir:DIR`, `mlebench:CHECKOUT`, `thresholds:FILE`), which `parse` reads back: the pipeline
    hands that text to its jobs, so a job sees exactly the source the experiment named."""

    kind: str  # dir | mlebench | thresholds | kaggle | none
    path: Path | None = None

    @classmethod
    def parse(cls, value: str | Path | dict | None) -> LeaderboardSource:
        """A dict {kind, path}; `none`; `kaggle[:CACHE_DIR]`; `dir:DIR`, `mlebench:CHECKOUT` or
        `thresholds:FILE`; or a bare path: an MLE-bench checkout (a directory holding
        mlebench/competitions/), another directory of leaderboards or a .csv thresholds table.
        Paths are made absolute, so that jobs running elsewhere (Slurm) read the same files."""
        if value is None or value == "none":
            return cls("none")
        if isinstance(value, dict):
            kind, path = value.get("kind", "dir"), value.get("path")
            if kind not in KINDS:
                raise LeaderboardError(
                    f"leaderboards.kind '{kind}' is not one of {', '.join(KINDS)}"
                )
            if kind == "none":
                return cls("none")
            if kind == "kaggle":
                return cls("kaggle", Path(path or DEFAULT_KAGGLE_CACHE).resolve())
            if not path:
                raise LeaderboardError(f"leaderboards of kind '{kind}' need a 'path'")
            return cls._checked(kind, Path(path))
        text = str(value)
        kind, sep, rest = text.partition(":")
        if sep and kind == "kaggle":
            return cls("kaggle", Path(rest or DEFAULT_KAGGLE_CACHE).resolve())
        if text == "kaggle":
            return cls("kaggle", DEFAULT_KAGGLE_CACHE.resolve())
        if sep and kind in ("dir", "mlebench", "thresholds") and rest:
            return cls._checked(kind, Path(rest))
        path = Path(text)
        if path.is_dir():
            return cls("mlebench" if is_mlebench_checkout(path) else "dir", path.resolve())
        if path.suffix == ".csv":
            return cls._checked("thresholds", path)
        raise LeaderboardError(
            f"leaderboard source '{text}' is neither a directory, a .csv thresholds table, "
            "'kaggle' nor 'none'" + ("" if path.exists() else f" ({path} does not exist)")
        )

    @classmethod
    def _checked(cls, kind: str, path: Path) -> LeaderboardSource:
        if kind == "dir" and not path.is_dir():
            raise LeaderboardError(f"leaderboard directory {path} does not exist")
        if kind == "mlebench" and not is_mlebench_checkout(path):
            raise LeaderboardError(
                f"{path} is no MLE-bench checkout (it has no {MLEBENCH_COMPETITIONS}/)"
            )
        if kind == "thresholds" and not path.is_file():
            raise LeaderboardError(f"thresholds table {path} does not exist")
        return cls(kind, path.resolve())

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"

    def missing(self, competitions: list[Competition]) -> list[str]:
        """Ids of the competitions (practice ones aside) this source has no thresholds for, as
        far as can be known before grading: files that are absent, rows that the table lacks. A
        Kaggle source lacks those not yet downloaded when no credentials are found."""
        real = [c for c in competitions if not c.practice]
        if self.kind == "none":
            return []
        if self.kind == "thresholds":
            table = _thresholds_table(self.path)
            return [c.id for c in real if c.id not in table]
        absent = [c.id for c in real if not self.file_for(c).is_file()]
        if self.kind == "mlebench":
            return absent  # Git LFS pointers: pointer_error
        if self.kind == "kaggle":
            return [] if has_kaggle_credentials() else absent
        return absent

    def coverage_error(self, competitions: list[Competition]) -> str | None:
        """One line naming what is missing, or None when every competition is covered."""
        pointer = self.pointer_error(competitions)
        if pointer:
            return f"leaderboards: {pointer}"
        missing = self.missing(competitions)
        if not missing:
            return None
        names = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        if self.kind == "thresholds":
            where = f"the thresholds table {self.path} has no row for"
        elif self.kind == "dir":
            where = f"the leaderboard directory {self.path} has no <id>.csv for"
        elif self.kind == "mlebench":
            where = (
                f"the MLE-bench checkout {self.path} has no "
                f"{MLEBENCH_COMPETITIONS}/<id>/leaderboard.csv for"
            )
        else:
            where = f"no Kaggle credentials to download the leaderboards (cache {self.path}) of"
        return (
            f"leaderboards: {where} {len(missing)} competition(s) of the experiment: {names}; "
            "add them, point 'leaderboards' elsewhere, or set it to none (scores only)"
        )

    def pointer_error(self, competitions: list[Competition]) -> str | None:
        """One line naming the first of the checkout's leaderboards that Git LFS left as a
        pointer (`git lfs pull` not run), or None."""
        if self.kind != "mlebench":
            return None
        for c in competitions:
            path = self.file_for(c)
            if not c.practice and path.is_file() and is_lfs_pointer(path):
                return lfs_pointer_error(path, self.path)
        return None

    def file_for(self, competition: Competition) -> Path | None:
        """The file whose content decides this competition's thresholds (for staleness)."""
        if self.kind == "dir":
            return self.path / f"{competition.id}.csv"
        if self.kind == "mlebench":
            return self.path / MLEBENCH_COMPETITIONS / competition.id / "leaderboard.csv"
        if self.kind == "thresholds":
            return self.path
        if self.kind == "kaggle":
            return self.path / f"{competition.id}.csv"
        return None

    def thresholds(self, competition: Competition) -> Thresholds | None:
        """Thresholds for a competition, or None for practice competitions and when the source
        has none. Like MLE-bench, every real competition is ranked against its leaderboard,
        also those whose Kaggle edition awarded no medals (`awards_medals: false`)."""
        if competition.practice or self.kind == "none":
            return None
        if self.kind == "thresholds":
            table = _thresholds_table(self.path)
            return table.get(competition.id)
        path = self.file_for(competition)
        if self.kind == "kaggle" and not path.is_file():
            download_leaderboard(competition, path)
        if not path.is_file():
            return None
        if self.kind == "mlebench" and is_lfs_pointer(path):
            raise LeaderboardError(lfs_pointer_error(path, self.path))
        return thresholds_from_leaderboard(path)


_TABLES: dict[Path, dict[str, Thresholds]] = {}


def _thresholds_table(path: Path) -> dict[str, Thresholds]:
    if path not in _TABLES:
        _TABLES[path] = read_thresholds_table(path)
    return _TABLES[path]


def download_leaderboard(competition: Competition, dest: Path) -> Path:
    """Fetches the leaderboard through the Kaggle API and stores it as CSV (temp name, rename)."""
    frame = kaggle_leaderboard(competition.kaggle_slug)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".csv.part")
    frame.to_csv(tmp, index=False)
    tmp.replace(dest)
    return dest


def kaggle_leaderboard(
    kaggle_slug: str, *, retries: int = 3, backoff_seconds: float = 5.0
) -> pd.DataFrame:
    """The competition's leaderboard as the Kaggle API returns it, every page of it.

    Columns keep the API's names (teamId, teamName, submissionDate, score); ``score``, which
    the API sends as text, is parsed to float (unparseable entries become NaN).
    """
    api = kaggle_api()

    def page(token: str) -> Any:
        from kagglesdk.competitions.types.competition_api_service import ApiGetLeaderboardRequest

        request = ApiGetLeaderboardRequest()
        request.competition_name = kaggle_slug
        request.page_size = LEADERBOARD_PAGE_SIZE
        request.page_token = token
        with api.build_kaggle_client() as client:
            return client.competitions.competition_api_client.get_leaderboard(request)

    with_retries(api.authenticate, kaggle_slug, retries, backoff_seconds)
    rows: list[dict[str, Any]] = []
    token, seen = "", set()
    while True:
        response = with_retries(partial(page, token), kaggle_slug, retries, backoff_seconds)
        rows.extend(s.to_dict(ignore_defaults=False) for s in response.submissions if s)
        token = response.next_page_token
        if not token or token in seen:  # a repeated token would loop forever
            break
        seen.add(token)
    if not rows:
        raise AcquisitionError(
            f"Kaggle returned an empty leaderboard for competition '{kaggle_slug}'; check the "
            f"slug at https://www.kaggle.com/c/{kaggle_slug}/leaderboard"
        )
    frame = pd.DataFrame(rows)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame
