"""inaturalist-2019: MLE-bench reads each prediction with int(), which refuses floats."""

from variant_cases import INVALID, Prepared

COMPETITION = "inaturalist-2019-fgvc6"


def class_ids_as_floats(p: Prepared):
    # The perfect class ids written as floats (3.0): refused by MLE-bench's grader (checked:
    # invalid), the right classes here.
    sub = p.perfect.copy()
    sub["predicted"] = sub["predicted"].astype(float)
    return sub, {"mlebench": INVALID, "corrected": 0.0}


CASES = {"class-ids-read-by-int": class_ids_as_floats}
