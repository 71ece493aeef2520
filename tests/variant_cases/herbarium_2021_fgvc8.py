"""herbarium-2021: MLE-bench truncates each prediction with int()."""

from variant_cases import INVALID, Prepared

COMPETITION = "herbarium-2021-fgvc8"


def fractional_labels(p: Prepared):
    # The perfect class numbers plus 0.5: truncated back to the right class there (checked
    # with MLE-bench's grader: 1.0), no class number here.
    sub = p.perfect.copy()
    sub["Predicted"] = sub["Predicted"] + 0.5
    return sub, {"mlebench": 1.0, "corrected": INVALID}


CASES = {"labels-truncated-to-int": fractional_labels}
