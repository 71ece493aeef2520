"""stanford-covid-vaccine: MLE-bench selects the scored rows of the submission by row label."""

from variant_cases import Prepared

COMPETITION = "stanford-covid-vaccine"


def rows_in_reverse_order(p: Prepared):
    # The perfect submission, rows in reverse order: MLE-bench keeps the rows at the answers'
    # scored row numbers, which now hold other positions (checked with its grader: 0.64644).
    return p.perfect.iloc[::-1], {"mlebench": 0.64644, "corrected": 0.0}


CASES = {"scored-rows-by-row-label": rows_in_reverse_order}
