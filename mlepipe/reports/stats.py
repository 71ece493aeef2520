"""The statistics of the reports, on plain arrays: pass@k, bootstrap intervals over competitions
and seeds, and the paired comparison of two agents (mean difference, sign test).

A rate's data is a competitions x seeds matrix of 0/1 outcomes (a medal or not) with NaN where a
run is missing and left out (`missing_seeds: drop`); padded runs arrive here as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

DEFAULT_RESAMPLES = 10_000
DEFAULT_LEVEL = 0.95
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are drawn: resamples, the interval's level, and the RNG seed that makes a
    report reproducible."""

    resamples: int = DEFAULT_RESAMPLES
    level: float = DEFAULT_LEVEL
    seed: int = DEFAULT_SEED

    @classmethod
    def from_config(cls, config: dict | None) -> Bootstrap:
        config = config or {}
        return cls(
            resamples=int(config.get("resamples", DEFAULT_RESAMPLES)),
            level=float(config.get("level", DEFAULT_LEVEL)),
            seed=int(config.get("seed", DEFAULT_SEED)),
        )

    def interval(self, draws: np.ndarray) -> tuple[float, float]:
        """The percentile interval of bootstrap draws."""
        tail = (1.0 - self.level) / 2.0
        low, high = np.quantile(draws, [tail, 1.0 - tail])
        return float(low), float(high)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021)'s unbiased estimate of the chance that at least one of k runs, drawn
    without replacement from n runs of which c succeeded, succeeds: 1 - C(n-c, k) / C(n, k)."""
    if not 0 < k <= n:
        raise ValueError(f"pass@k needs 0 < k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(outcomes: np.ndarray, k: int) -> float:
    """pass@k averaged over the competitions (rows); NaN where a competition has fewer than k
    runs, or there is no competition."""
    runs = ~np.isnan(outcomes)
    n = runs.sum(axis=1)
    if len(n) == 0 or n.min() < k:
        return float("nan")
    c = np.nansum(outcomes, axis=1)
    return float(np.mean([pass_at_k(int(a), int(b), k) for a, b in zip(n, c, strict=True)]))


def _compact(outcomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's runs moved to its front (NaNs last) and the number of runs per row; rows
    without any run are dropped."""
    n = (~np.isnan(outcomes)).sum(axis=1)
    rows = [row[~np.isnan(row)] for row in outcomes[n > 0]]
    width = max((len(r) for r in rows), default=0)
    packed = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        packed[i, : len(r)] = r
    return packed, n[n > 0]


def _resample_rate(
    packed: np.ndarray, n: np.ndarray, chosen: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One rate per bootstrap draw: for the competitions `chosen` (draws x competitions), each
    one's runs resampled with replacement, averaged per competition, then over competitions."""
    runs = n[chosen]  # draws x competitions
    width = packed.shape[1]
    picks = np.floor(rng.random((*chosen.shape, width)) * runs[..., None]).astype(int)
    values = packed[chosen[..., None], picks]
    used = np.arange(width) < runs[..., None]
    per_competition = (values * used).sum(axis=-1) / runs
    return per_competition.mean(axis=-1)


def bootstrap_rate(outcomes: np.ndarray, settings: Bootstrap) -> tuple[float, float]:
    """The percentile interval of a rate (as a fraction) by resampling competitions, and seeds
    within each; (NaN, NaN) without any run."""
    packed, n = _compact(np.asarray(outcomes, dtype=float))
    if len(n) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(settings.seed)
    chosen = rng.integers(0, len(n), size=(settings.resamples, len(n)))
    return settings.interval(_resample_rate(packed, n, chosen, rng))


@dataclass(frozen=True)
class Paired:
    """Two agents on the same competitions: per competition the difference of their rates over
    seeds (a - b), and what follows from those differences."""

    competitions: list[str]
    rate_a: np.ndarray
    rate_b: np.ndarray
    mean_difference: float
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    sign_test_p: float

    @property
    def differences(self) -> np.ndarray:
        return self.rate_a - self.rate_b


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial sign test on the non-tied pairs: the chance, under p = 1/2, of a
    split at least as uneven as this one; NaN when every pair is tied."""
    n = wins + losses
    if n == 0:
        return float("nan")
    tail = sum(comb(n, i) for i in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2.0 * tail)


def paired_comparison(
    competitions: list[str], a: np.ndarray, b: np.ndarray, settings: Bootstrap
) -> Paired:
    """a and b: competitions x seeds outcome matrices (rows in the order of `competitions`),
    each row with at least one run. The interval resamples the same competitions for both
    agents, and each agent's seeds within them."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rate_a, rate_b = np.nanmean(a, axis=1), np.nanmean(b, axis=1)
    diff = rate_a - rate_b
    wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
    if len(competitions) == 0:
        low = high = mean = float("nan")
    else:
        mean = float(diff.mean())
        rng = np.random.default_rng(settings.seed)
        chosen = rng.integers(0, len(competitions), size=(settings.resamples, len(competitions)))
        packed_a, n_a = _compact(a)
        packed_b, n_b = _compact(b)
        draws = _resample_rate(packed_a, n_a, chosen, rng) - _resample_rate(
            packed_b, n_b, chosen, rng
        )
        low, high = settings.interval(draws)
    return Paired(
        competitions=list(competitions), rate_a=rate_a, rate_b=rate_b, mean_difference=mean,
        ci_low=low, ci_high=high, wins=wins, losses=losses,
        ties=len(competitions) - wins - losses, sign_test_p=sign_test(wins, losses),
    )  # fmt: skip
