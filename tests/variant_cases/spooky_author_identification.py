"""spooky: MLE-bench takes the first column for the id."""

from variant_cases import INVALID, Prepared

COMPETITION = "spooky-author-identification"


def id_second(p: Prepared):
    # The perfect submission with the id column second: MLE-bench's grader finds it invalid
    # (checked with its grader: None, a TypeError summing the ids); a perfect log loss (0) here.
    columns = ["EAP", "id", "HPL", "MWS"]
    return p.perfect[columns], {"mlebench": INVALID, "corrected": 0.0}


CASES = {"id-first-column": id_second}
