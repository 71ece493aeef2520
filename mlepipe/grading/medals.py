"""Medal thresholds from a Kaggle leaderboard, by Kaggle's progression rules as MLE-bench applies
them, and the medal a score earns.

Cut-off ranks by number of teams N (rank r means the r-th row of the sorted leaderboard):
  N < 100:         gold max(1, [0.1 N]),  silver max(1, [0.2 N]),  bronze max(1, [0.4 N])
  100 <= N < 250:  gold 10,               silver [0.2 N],          bronze [0.4 N]
  250 <= N < 1000: gold 10 + [0.002 N],   silver 50,               bronze 100
  N >= 1000:       gold 10 + [0.002 N],   silver [0.05 N],         bronze [0.1 N]
where [x] rounds down. The threshold is the score at that rank; a score equal to a threshold
earns the medal. The median is the median of all scores, and "above median" is strict.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd


class LeaderboardError(ValueError):
    pass


@dataclass(frozen=True)
class Thresholds:
    gold: float
    silver: float
    bronze: float
    median: float
    lower_is_better: bool
    source: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def medal_ranks(num_teams: int) -> tuple[int, int, int]:
    """1-based leaderboard ranks whose scores are the gold, silver and bronze thresholds."""
    n = num_teams
    if n < 1:
        raise LeaderboardError("a leaderboard needs at least one team")
    if n < 100:
        return max(1, int(n * 0.1)), max(1, int(n * 0.2)), max(1, int(n * 0.4))
    if n < 250:
        return 10, int(n * 0.2), int(n * 0.4)
    if n < 1000:
        return 10 + int(n * 0.002), 50, 100
    return 10 + int(n * 0.002), int(n * 0.05), int(n * 0.1)


def detect_lower_is_better(scores: pd.Series) -> bool:
    """A leaderboard lists the best team first: lower is better when the first score is lower."""
    return bool(scores.iloc[0] < scores.iloc[-1])


def read_leaderboard(path: Path) -> pd.DataFrame:
    """A leaderboard CSV in the Kaggle API's layout (teamId, ..., score) or as `rank,score`.

    Rows keep their file order (best first), as the Kaggle API and scraped tables deliver them.
    """
    path = Path(path)
    if not path.is_file():
        raise LeaderboardError(f"no leaderboard file at {path}")
    df = pd.read_csv(path)
    if "score" not in df.columns:
        raise LeaderboardError(f"{path} has no 'score' column (columns: {list(df.columns)})")
    df = df[pd.to_numeric(df["score"], errors="coerce").notna()].copy()
    df["score"] = df["score"].astype(float)
    if df.empty:
        raise LeaderboardError(f"{path} has no numeric scores")
    return df.reset_index(drop=True)


def thresholds_from_scores(
    scores: pd.Series, lower_is_better: bool | None = None, source: str = ""
) -> Thresholds:
    scores = pd.Series(scores, dtype=float).reset_index(drop=True)
    if lower_is_better is None:
        lower_is_better = detect_lower_is_better(scores)
    gold_r, silver_r, bronze_r = medal_ranks(len(scores))
    return Thresholds(
        gold=float(scores.iloc[gold_r - 1]),
        silver=float(scores.iloc[silver_r - 1]),
        bronze=float(scores.iloc[bronze_r - 1]),
        median=float(scores.median()),
        lower_is_better=lower_is_better,
        source=source,
    )


def thresholds_from_leaderboard(path: Path, lower_is_better: bool | None = None) -> Thresholds:
    return thresholds_from_scores(
        read_leaderboard(path)["score"], lower_is_better, source=f"leaderboard:{path}"
    )


def read_thresholds_table(path: Path) -> dict[str, Thresholds]:
    """A table with columns competition_id, gold_threshold, silver_threshold, bronze_threshold,
    median_threshold, is_lower_better (MLE-bench's grading-report names)."""
    df = pd.read_csv(path)
    need = {
        "competition_id",
        "gold_threshold",
        "silver_threshold",
        "bronze_threshold",
        "median_threshold",
        "is_lower_better",
    }
    if not need <= set(df.columns):
        raise LeaderboardError(f"{path} lacks column(s) {sorted(need - set(df.columns))}")
    out = {}
    for row in df.itertuples(index=False):
        lib = row.is_lower_better
        if isinstance(lib, str):
            lib = lib.strip().lower() == "true"
        out[row.competition_id] = Thresholds(
            gold=float(row.gold_threshold),
            silver=float(row.silver_threshold),
            bronze=float(row.bronze_threshold),
            median=float(row.median_threshold),
            lower_is_better=bool(lib),
            source=f"thresholds:{path}",
        )
    return out


@dataclass(frozen=True)
class Medals:
    gold_medal: bool
    silver_medal: bool
    bronze_medal: bool
    above_median: bool

    @property
    def any_medal(self) -> bool:
        return self.gold_medal or self.silver_medal or self.bronze_medal


NO_MEDALS = Medals(False, False, False, False)


def rank(score: float | None, t: Thresholds) -> Medals:
    """The medal a score earns; ties at a threshold earn it, above-median is strict."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return NO_MEDALS

    def at_least(threshold: float) -> bool:
        return score <= threshold if t.lower_is_better else score >= threshold

    gold = at_least(t.gold)
    silver = not gold and at_least(t.silver)
    bronze = not gold and not silver and at_least(t.bronze)
    above = score < t.median if t.lower_is_better else score > t.median
    return Medals(gold, silver, bronze, above)
