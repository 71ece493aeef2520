"""google-quest: MLE-bench pairs rows by position after sorting by qa_id, and reports NaN for
an undefined correlation. The mlebench verdicts were checked with MLE-bench's grader."""

from variant_cases import INVALID, Prepared

COMPETITION = "google-quest-challenge"


def ids_not_in_the_test_set(p: Prepared):
    # The perfect predictions under ids that name no test row, in the same sorted order.
    sub = p.perfect.copy()
    sub["qa_id"] = sub["qa_id"] + 10_000_000
    return sub, {"mlebench": 1.0, "corrected": INVALID}


def one_constant_column(p: Prepared):
    # The perfect predictions, one column constant: NaN there (valid, no medal), 0 for that
    # column here, 1 for the others.
    sub = p.perfect.copy()
    targets = [c for c in sub.columns if c != "qa_id"]
    sub[targets[0]] = 0.5
    return sub, {"mlebench": float("nan"), "corrected": (len(targets) - 1) / len(targets)}


def a_text_cell(p: Prepared):
    # The perfect predictions with `abc` in one cell: that column is read as text there and
    # ranked alphabetically (checked with MLE-bench's grader: 0.98872), refused here.
    sub = p.perfect.copy()
    column = [c for c in sub.columns if c != "qa_id"][0]
    sub[column] = sub[column].astype(object)
    sub.loc[0, column] = "abc"
    return sub, {"mlebench": 0.98872, "corrected": INVALID}


CASES = {
    "rows-by-sorted-id": ids_not_in_the_test_set,
    "undefined-correlation-is-nan": one_constant_column,
    "cells-ranked-as-read": a_text_cell,
}
