"""Two grading variants of every submission: ``mlebench`` gives MLE-bench 783b15a's verdicts and
scores, its bugs included, so that a medal rate is comparable with its published leaderboard;
``corrected`` is ours. Where they differ, the difference is one named rule (a *deviation*).

A rule is declared once, in its competition's definition: a known issue with ``rule: <name>``,
``mlebench:`` (what MLE-bench does), ``summary:`` (what we do and why) and, where there is one,
``upstream:`` (MLE-bench's issue). The grading code branches on it at the one point where the
variants differ::

    if variants.follows_mlebench(competition, "article-ids-as-text"):
        ...  # MLE-bench's behaviour
    else:
        ...  # ours

The variant being computed is a context (``with variants.variant("mlebench"): ...``), so the
grading functions keep their signatures. Outside any such block the corrected variant applies.
A branch on a name its competition does not declare raises, so no behaviour can differ without
being listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlepipe.registry import Competition, Registry

MLEBENCH, CORRECTED = "mlebench", "corrected"
VARIANTS = (MLEBENCH, CORRECTED)
DEFAULT_VARIANT = MLEBENCH  # an experiment's headline, unless it names the other one

_current: ContextVar[str] = ContextVar("grading_variant", default=CORRECTED)


@dataclass(frozen=True)
class Deviation:
    """One behaviour in which MLE-bench's grading and ours differ."""

    competition: str
    rule: str
    mlebench: str  # what MLE-bench 783b15a does
    corrected: str  # what we do (the known issue's summary)
    upstream: str | None  # MLE-bench's issue or pull request, where there is one

    @property
    def name(self) -> str:
        return f"{self.competition}/{self.rule}"


def deviations(competition: Competition) -> list[Deviation]:
    """The competition's rules, in the order its definition lists them."""
    return [
        Deviation(
            competition=competition.id,
            rule=issue["rule"],
            mlebench=issue["mlebench"],
            corrected=issue["summary"],
            upstream=issue.get("upstream"),
        )  # fmt: skip
        for issue in competition.known_issues
        if issue.get("rule")
    ]


def all_deviations(registry: Registry) -> list[Deviation]:
    """Every rule of every competition, by competition id."""
    return [d for cid in sorted(registry.ids()) for d in deviations(registry.get(cid))]


@contextmanager
def variant(name: str) -> Iterator[None]:
    """Grade in variant ``name`` within the block."""
    if name not in VARIANTS:
        raise ValueError(f"unknown grading variant {name!r}: one of {', '.join(VARIANTS)}")
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


def follows_mlebench(competition: Competition, rule: str) -> bool:
    """Whether the variant being computed does what MLE-bench does where ``rule`` of
    ``competition`` applies; a rule the competition does not declare is an error."""
    if rule not in {d.rule for d in deviations(competition)}:
        raise KeyError(
            f"grading rule {competition.id}/{rule} is not declared: add a known issue with "
            f"`rule: {rule}` to competitions/{competition.id}/competition.yaml"
        )
    return _current.get() == MLEBENCH


def differs(competition: Competition) -> bool:
    """Whether the two variants can differ at all for this competition (else grade once)."""
    return bool(deviations(competition))
