"""osic: MLE-bench scores the scored weeks a submission gives, and takes NaN and infinities
into its formula."""

import pandas as pd

from mlepipe.registry import Registry
from variant_cases import INVALID, Prepared

COMPETITION = "osic-pulmonary-fibrosis-progression"
COLUMNS = ["Patient_Week", "FVC", "Confidence"]


def _scored(p: Prepared) -> pd.Series:
    module = Registry().get(COMPETITION).grade_module
    return pd.Series(module.scored_rows(p.answers), index=p.answers.index)


def weeks_left_out_and_repeated(p: Prepared):
    # The answers as a submission (FVC exact, confidence 100), one scored week left out and an
    # unscored week repeated: MLE-bench's grader scores the other scored weeks (-4.59507,
    # checked); here every Patient_Week must appear once.
    sub = p.perfect[COLUMNS].copy()
    sub["FVC"] = sub["FVC"].fillna(2000.0)
    scored = _scored(p)
    dropped = sub.drop(index=scored[scored].index[0])
    repeated = sub.loc[[scored[~scored].index[0]]]
    return pd.concat([dropped, repeated], ignore_index=True), {
        "mlebench": -4.59507, "corrected": INVALID,
    }  # fmt: skip


def empty_scored_fvc(p: Prepared):
    # A scored row's FVC left empty: MLE-bench's grader returns NaN (checked), reported as a
    # valid submission; invalid here.
    sub = p.perfect[COLUMNS].copy()
    sub["FVC"] = sub["FVC"].fillna(2000.0)
    scored = _scored(p)
    sub.loc[scored[scored].index[0], "FVC"] = float("nan")
    return sub, {"mlebench": float("nan"), "corrected": INVALID}


CASES = {
    "scored-weeks-only": weeks_left_out_and_repeated,
    "non-finite-values-scored": empty_scored_fvc,
}
