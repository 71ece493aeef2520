"""Fixtures for the competitions prepared from their original Kaggle downloads.

The downloads live in `../shared/kaggle-mirror` beside the checkout: optional reference material,
so every test that needs them skips with a message saying so when it is absent. Each competition
is prepared once per session, on first use, and shared by every test module that needs it.

A test module about one competition names it in `COMPETITION_ID`; the module-scoped fixtures
`competition`, `original_zip`, `data_dir`, `answers`, `verdict`, `sample_grading` and `revealed`
are about that one. A test about every mirrored competition takes `mirror_id` (parametrised over
all of them) and reaches their data through `mirror`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from mlepipe.grading.checks import InvalidSubmission, read_csv_submission
from mlepipe.grading.leaderboards import LeaderboardSource
from mlepipe.grading.report import CompetitionReport, grade_submission
from mlepipe.grading.scoring import load_answers, score_frames
from mlepipe.prepare import prepare
from mlepipe.registry import Competition, Registry

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
MIRROR = SHARED / "kaggle-mirror"
REFERENCE_CHECKSUMS = SHARED / "mlebench-reference" / "checksums"

# The competitions whose original download the mirror holds.
MIRROR_IDS = (
    "aerial-cactus-identification",
    "denoising-dirty-documents",
    "detecting-insults-in-social-commentary",
    "leaf-classification",
    "nomad2018-predict-transparent-conductors",
    "random-acts-of-pizza",
    "spaceship-titanic",
    "spooky-author-identification",
)

# Words that would tell an agent which public competition it faces.
GIVEAWAYS = ("kaggle", "leaderboard", "competition", "prize")


def require_shared(path: Path) -> Path:
    """`path` inside ../shared, or a skip that says what is missing and that it is optional."""
    if not SHARED.is_dir():
        pytest.skip(
            f"{SHARED} is absent: it holds the optional reference material (original Kaggle "
            "downloads, MLE-bench's checksums) that these tests compare against"
        )
    if not path.exists():
        pytest.skip(f"{path} is absent from the optional reference material in {SHARED}")
    return path


@dataclass(frozen=True)
class SampleGrading:
    frame: pd.DataFrame  # the sample submission as grading reads it
    score: float  # unrounded, scored from `frame`
    report: CompetitionReport  # the file graded as `mlepipe grade` does it


class PreparedMirror:
    """Competitions prepared from the mirror, each into its own temp data dir once per session.

    Answers and the sample's grading are kept too (denoising's answers hold 5.8 million rows):
    tests must not modify what they get.
    """

    def __init__(self, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.registry, self.tmp = registry, tmp_path_factory
        self._cache: dict[tuple[str, str], Any] = {}

    def _once(self, kind: str, competition_id: str, make: Callable[[], Any]) -> Any:
        key = (kind, competition_id)
        if key not in self._cache:
            try:
                self._cache[key] = make()
            except Exception as exc:  # a slow failure is not repeated for every test after it
                self._cache[key] = exc
                raise
        cached = self._cache[key]
        if isinstance(cached, Exception):
            raise RuntimeError(f"{competition_id}: {kind} failed earlier: {cached}") from cached
        return cached

    def data_dir(self, competition_id: str) -> Path:
        return self._once("data", competition_id, lambda: self._prepare(competition_id))

    def _prepare(self, competition_id: str) -> Path:
        require_shared(MIRROR / f"{competition_id}.zip")
        from mlepipe.sources import MirrorSource

        data = self.tmp.mktemp(competition_id[:30])
        start = time.perf_counter()
        prepare(self.registry.get(competition_id), data, MirrorSource(MIRROR))
        print(f"{competition_id} prepared in {time.perf_counter() - start:.1f}s")
        return data

    def answers(self, competition_id: str) -> pd.DataFrame:
        competition = self.registry.get(competition_id)
        path = competition.answers_path(self.data_dir(competition_id))
        return self._once("answers", competition_id, lambda: load_answers(path))

    def sample_grading(self, competition_id: str) -> SampleGrading:
        return self._once("sample", competition_id, lambda: self._grade_sample(competition_id))

    def _grade_sample(self, competition_id: str) -> SampleGrading:
        competition = self.registry.get(competition_id)
        data = self.data_dir(competition_id)
        path = competition.sample_submission_path(data)
        frame = read_csv_submission(path)
        score = score_frames(frame, self.answers(competition_id), competition)
        report = grade_submission(path, competition, data, LeaderboardSource.parse("none"))
        return SampleGrading(frame, score, report)


@pytest.fixture(scope="session")
def mirror(registry, tmp_path_factory) -> PreparedMirror:
    return PreparedMirror(registry, tmp_path_factory)


@pytest.fixture(params=MIRROR_IDS)
def mirror_id(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def reference_checksums() -> Callable[[str], dict[str, Any]]:
    """MLE-bench's recorded MD5s of a competition's prepared files (`public`, `private`, `zip`)."""
    return lambda competition_id: yaml.safe_load(
        require_shared(REFERENCE_CHECKSUMS / f"{competition_id}.yaml").read_text()
    )


@pytest.fixture(scope="module")
def competition(request, registry) -> Competition:
    competition_id = getattr(request.module, "COMPETITION_ID", None)
    if competition_id is None:
        raise pytest.UsageError(f"{request.module.__file__} must set COMPETITION_ID")
    return registry.get(competition_id)


@pytest.fixture(scope="module")
def data_dir(mirror, competition) -> Path:
    return mirror.data_dir(competition.id)


@pytest.fixture(scope="module")
def original_zip(competition) -> Path:
    """The competition's download as Kaggle delivers it, in the mirror."""
    return require_shared(MIRROR / f"{competition.id}.zip")


@pytest.fixture(scope="module")
def answers(mirror, competition) -> pd.DataFrame:
    return mirror.answers(competition.id)


@pytest.fixture(scope="module")
def sample_grading(mirror, competition) -> SampleGrading:
    return mirror.sample_grading(competition.id)


@pytest.fixture(scope="module")
def verdict(competition, answers) -> Callable[[pd.DataFrame], str | None]:
    """Grades a submission frame: None when it is valid, else the reason it is not."""

    def grade(frame: pd.DataFrame) -> str | None:
        try:
            score_frames(frame, answers, competition)
        except InvalidSubmission as exc:
            return str(exc)
        return None

    return grade


@pytest.fixture(scope="module")
def revealed(competition) -> Callable[..., list[str]]:
    """The give-away words, and those named, that the obfuscated description still contains."""
    text = competition.description_obfuscated.lower()
    return lambda *words: [w for w in (*GIVEAWAYS, *words) if w in text]
