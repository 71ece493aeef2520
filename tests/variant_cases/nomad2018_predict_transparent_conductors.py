"""nomad2018: MLE-bench pairs submission and answer rows by position, never by id."""

from variant_cases import Prepared

COMPETITION = "nomad2018-predict-transparent-conductors"


def reversed_rows(p: Prepared):
    # The perfect submission, rows in reverse order: each prediction meets another row's answer
    # in MLE-bench (its grader, run on this submission and the fixture's answers: 0.54753).
    return p.perfect.iloc[::-1], {"mlebench": 0.54753, "corrected": 0.0}


CASES = {"rows-by-position": reversed_rows}
