"""jigsaw-toxic: MLE-bench reads the prediction columns in file order and pairs rows by sorted
id without checking the ids."""

from variant_cases import INVALID, Prepared

COMPETITION = "jigsaw-toxic-comment-classification-challenge"
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def _graded(p: Prepared):
    """The labels plus a spread that keeps their ranking (a perfect score when read by name)."""
    sub = p.perfect.copy()
    for n, col in enumerate(LABELS):
        sub[col] = sub[col].clip(lower=0) + ((sub.index * (n + 3)) % 7) / 10
    return sub


def columns_swapped(p: Prepared):
    # toxic and insult swapped in the file's column order; same predictions by name. MLE-bench's
    # grader gives 0.84691 (checked); ours scores it like the unswapped file.
    sub = _graded(p)
    order = ["id", "insult", "severe_toxic", "obscene", "threat", "toxic", "identity_hate"]
    return sub[order], {"mlebench": 0.84691, "corrected": 1.0}


def repeated_id(p: Prepared):
    # The second scored row (in id order) given the first one's id and predictions: MLE-bench's
    # grader scores it (0.99059, checked); here a repeated id is invalid.
    sub = _graded(p)
    scored = p.answers[p.answers[LABELS].sum(axis=1) >= 0].sort_values("id")
    first, second = scored.index[0], scored.index[1]
    sub.loc[second] = sub.loc[first]
    return sub, {"mlebench": 0.99059, "corrected": INVALID}


CASES = {"columns-in-file-order": columns_swapped, "repeated-id-scored": repeated_id}
