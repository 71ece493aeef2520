"""smartphone-decimeter-2022: MLE-bench pairs each trip's rows by position, not by epoch, and
returns a NaN score, as a valid submission, for an empty or infinite coordinate."""

from variant_cases import INVALID, Prepared

COMPETITION = "smartphone-decimeter-2022"


def epochs_in_reverse_order(p: Prepared):
    # The perfect submission, rows in reverse order (each trip's epochs reversed): each
    # position of a trip meets another epoch's answer in MLE-bench (checked with its grader:
    # 20.18526).
    return p.perfect.iloc[::-1], {"mlebench": 20.18526, "corrected": 0.0}


def empty_coordinate(p: Prepared):
    # The perfect submission with one latitude left empty: MLE-bench's grader returns NaN
    # (checked), which its report counts as a valid submission; invalid here.
    sub = p.perfect.copy()
    sub.loc[0, "LatitudeDegrees"] = float("nan")
    return sub, {"mlebench": float("nan"), "corrected": INVALID}


def infinite_coordinate(p: Prepared):
    # The perfect submission with one longitude infinite: MLE-bench's grader returns NaN
    # (checked), a valid submission there; invalid here.
    sub = p.perfect.copy()
    sub.loc[0, "LongitudeDegrees"] = float("inf")
    return sub, {"mlebench": float("nan"), "corrected": INVALID}


CASES = {
    "rows-by-position-within-trip": epochs_in_reverse_order,
    "empty-cells-scored": empty_coordinate,
    "infinite-cells-scored": infinite_coordinate,
}
