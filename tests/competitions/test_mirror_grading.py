"""Grading facts that hold alike for every competition prepared from its original Kaggle download:
the sample submission is valid, and the answers themselves earn the metric's best score."""

from __future__ import annotations

import pytest

from mlepipe.grading.checks import check_against_sample
from mlepipe.grading.scoring import round_score, score_frames
from mlepipe.metrics import get_metric


def test_sample_submission_passes_the_public_check_and_grades_as_valid(mirror_id, mirror, registry):
    competition, graded = registry.get(mirror_id), mirror.sample_grading(mirror_id)
    check_against_sample(graded.frame, graded.frame, competition)
    assert graded.report.valid_submission and graded.report.invalid_reason is None
    assert graded.report.score == round_score(graded.score)


def test_answers_as_submission_earn_the_metrics_best_score(mirror_id, mirror, registry):
    competition, answers = registry.get(mirror_id), mirror.answers(mirror_id)
    best = get_metric(competition.metric_name).best
    # Log losses clip probabilities away from 0 and 1, so a certain answer costs ~1e-15.
    assert score_frames(answers.copy(), answers, competition) == pytest.approx(best, abs=1e-12)
