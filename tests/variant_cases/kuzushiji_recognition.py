"""kuzushiji-recognition: MLE-bench splits prediction strings on single spaces and lets a point
at nan match nothing. The mlebench verdicts were checked with MLE-bench's grader."""

from variant_cases import INVALID, Prepared

COMPETITION = "kuzushiji-recognition"


def two_spaces_between_points(p: Prepared):
    # The perfect points with two spaces between tokens: malformed there, perfect here.
    sub = p.perfect.assign(labels=p.perfect["labels"].str.replace(" ", "  "))
    return sub, {"mlebench": INVALID, "corrected": 1.0}


def an_extra_point_at_nan(p: Prepared):
    # The perfect points plus one at (nan, nan) on the first page: one false positive there,
    # refused here. F1 = 2 tp / (2 tp + 1).
    sub = p.perfect.copy()
    label = sub.loc[0, "labels"].split()[0]
    sub.loc[0, "labels"] += f" {label} nan nan"
    tp = sum(len(str(v).split()) // 5 for v in p.answers["labels"] if isinstance(v, str))
    return sub, {"mlebench": 2 * tp / (2 * tp + 1), "corrected": INVALID}


CASES = {
    "points-split-on-single-spaces": two_spaces_between_points,
    "non-finite-point-matches-nothing": an_extra_point_at_nan,
}
