"""smartphone-decimeter: MLE-bench returns a NaN score, as a valid submission, for an empty
coordinate."""

from variant_cases import INVALID, Prepared

COMPETITION = "smartphone-decimeter-2022"


def empty_coordinate(p: Prepared):
    # The perfect submission with one latitude left empty: MLE-bench's grader returns NaN
    # (checked), which its report counts as a valid submission; invalid here.
    sub = p.perfect.copy()
    sub.loc[0, "LatitudeDegrees"] = float("nan")
    return sub, {"mlebench": float("nan"), "corrected": INVALID}


CASES = {"empty-cells-scored": empty_coordinate}
