"""rsna-breast-cancer: MLE-bench's probabilistic F1 is 0 once a prediction is empty."""

from variant_cases import INVALID, Prepared

COMPETITION = "rsna-breast-cancer-detection"


def empty_cell(p: Prepared):
    # The perfect submission (score 1) with one prediction left empty: MLE-bench's grader
    # gives 0 (checked); invalid here.
    sub = p.perfect.astype({"cancer": float})
    sub.loc[0, "cancer"] = float("nan")
    return sub, {"mlebench": 0.0, "corrected": INVALID}


CASES = {"empty-cells-scored": empty_cell}
