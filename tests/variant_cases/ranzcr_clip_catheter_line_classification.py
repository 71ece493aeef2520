"""ranzcr: MLE-bench 783b15a scores 9 of the 11 labels."""

from variant_cases import Prepared

COMPETITION = "ranzcr-clip-catheter-line-classification"
UNLISTED = ["CVC - Normal", "Swan Ganz Catheter Present"]


def unlisted_labels_reversed(p: Prepared):
    # Perfect on the 9 labels MLE-bench lists, reversed on the other two: 1.0 for MLE-bench's
    # grader (checked); (9 * 1 + 2 * 0) / 11 here.
    sub = p.perfect.copy()
    for col in UNLISTED:
        sub[col] = 1 - sub[col]
    return sub, {"mlebench": 1.0, "corrected": 0.81818}


CASES = {"nine-labels-scored": unlisted_labels_reversed}
