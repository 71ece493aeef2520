"""rsna-breast-cancer: MLE-bench's probabilistic F1 is 0 once a prediction is empty, and it
clips an infinite prediction to 1."""

from variant_cases import INVALID, Prepared

COMPETITION = "rsna-breast-cancer-detection"


def empty_cell(p: Prepared):
    # The perfect submission (score 1) with one prediction left empty: MLE-bench's grader
    # gives 0 (checked); invalid here.
    sub = p.perfect.astype({"cancer": float})
    sub.loc[0, "cancer"] = float("nan")
    return sub, {"mlebench": 0.0, "corrected": INVALID}


def infinite_cell(p: Prepared):
    # The perfect submission with one prediction infinite: MLE-bench clips it to 1 and scores
    # the rest (checked with its grader: 0.66667); invalid here.
    sub = p.perfect.astype({"cancer": float})
    negative = sub.index[sub["cancer"] == 0][0]
    sub.loc[negative, "cancer"] = float("inf")
    return sub, {"mlebench": 0.66667, "corrected": INVALID}


CASES = {"empty-cells-scored": empty_cell, "infinite-cells-scored": infinite_cell}
