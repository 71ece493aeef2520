"""plant-seedlings: MLE-bench scores an empty species cell as a wrong label."""

from variant_cases import INVALID, Prepared

COMPETITION = "plant-seedlings-classification"


def empty_cell(p: Prepared):
    # The perfect submission with the first species left empty: 8 of 9 right for MLE-bench's
    # grader (0.88889, checked); invalid here.
    sub = p.perfect.copy()
    sub.loc[0, "species"] = None
    assert len(sub) == 9
    return sub, {"mlebench": 0.88889, "corrected": INVALID}


CASES = {"empty-cells-scored": empty_cell}
