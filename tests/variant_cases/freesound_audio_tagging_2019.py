"""freesound-audio-tagging-2019: MLE-bench wants the columns in the sample's order."""

from variant_cases import INVALID, Prepared

COMPETITION = "freesound-audio-tagging-2019"


def classes_in_reverse_order(p: Prepared):
    # The perfect submission with the class columns in reverse order: refused by MLE-bench's
    # grader (checked: invalid), scored as perfect here.
    columns = list(p.perfect.columns)
    return p.perfect[columns[:1] + columns[:0:-1]], {"mlebench": INVALID, "corrected": 1.0}


CASES = {"columns-in-sample-order": classes_in_reverse_order}
