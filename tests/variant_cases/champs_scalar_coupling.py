"""champs: MLE-bench merges the submission into the answers on id, so a repeated id counts."""

import pandas as pd

from variant_cases import INVALID, Prepared

COMPETITION = "champs-scalar-coupling"


def _off_by(p: Prepared):
    """The answers with an error of 0.5 to 1.5 per row (a finite score)."""
    sub = p.perfect[["id", "scalar_coupling_constant"]].copy()
    sub["scalar_coupling_constant"] += 0.5 + (sub.index % 3) * 0.5
    return sub


def repeated_id(p: Prepared):
    # One id given a second time, with a prediction 10 off: MLE-bench's grader scores the extra
    # row too (0.50136, checked); here a repeated id is invalid.
    sub = _off_by(p)
    extra = sub.iloc[[0]].assign(scalar_coupling_constant=sub["scalar_coupling_constant"][0] + 10)
    return pd.concat([sub, extra], ignore_index=True), {"mlebench": 0.50136, "corrected": INVALID}


CASES = {"repeated-ids-scored": repeated_id}
