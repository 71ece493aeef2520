"""nomad2018: MLE-bench pairs submission and answer rows by position, never by id, and refuses
negative predictions."""

import math

from variant_cases import INVALID, Prepared

COMPETITION = "nomad2018-predict-transparent-conductors"


def reversed_rows(p: Prepared):
    # The perfect submission, rows in reverse order: each prediction meets another row's answer
    # in MLE-bench (its grader, run on this submission and the fixture's answers: 0.54753).
    return p.perfect.iloc[::-1], {"mlebench": 0.54753, "corrected": 0.0}


def a_negative_bandgap(p: Prepared):
    # The perfect submission with one bandgap of -0.5: refused by MLE-bench's scikit-learn
    # (checked with its grader: invalid), scored here; the value is the mean of the two columns'
    # RMSLE, one of which has a single error of log(1 - 0.5) - log(1 + truth).
    sub = p.perfect.copy()
    truth = float(sub.loc[0, "bandgap_energy_ev"])
    sub.loc[0, "bandgap_energy_ev"] = -0.5
    error = abs(math.log1p(-0.5) - math.log1p(truth))
    return sub, {"mlebench": INVALID, "corrected": error / math.sqrt(len(sub)) / 2}


CASES = {"rows-by-position": reversed_rows, "negative-predictions-refused": a_negative_bandgap}
