"""Submissions on which the two grading variants differ: one case per grading rule
(mlepipe.grading.variants), one module per competition (`<competition_id>.py`, dashes as
underscores).

A module defines ``COMPETITION = "<id>"`` and ``CASES = {rule: case}``. A case is a function of
the competition's prepared synthetic fixture (tests/fixtures/<id>.py) that returns
``(submission, expected)``: the
submission as a DataFrame (or JSON records, for the few competitions graded from them) and the
expected verdict of each variant, ``{"mlebench": score_or_INVALID, "corrected": ...}``, where a
score is compared after MLE-bench's rounding to 5 decimals. The verdicts must differ: a case on
which both variants agree shows nothing. Where no submission can show the rule against the
fixture's answers, a case returns ``(submission, expected, answers)``. Where possible the
`mlebench` verdict was checked against MLE-bench 783b15a's own grader (the module says so).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

INVALID = "invalid"
CASES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Prepared:
    """A competition's prepared synthetic fixture, as the cases see it."""

    competition: Any  # mlepipe.registry.Competition
    data_dir: Path
    answers: Any  # DataFrame, or JSON records
    sample: pd.DataFrame
    perfect: Any  # the answers written as a perfect submission


def case_modules() -> dict[str, Any]:
    """{competition id: module} for every module of this folder."""
    out = {}
    for path in sorted(CASES_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"variant_cases.{path.stem}")
        out[module.COMPETITION] = module
    return out
