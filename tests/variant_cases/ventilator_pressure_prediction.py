"""ventilator: MLE-bench never reads the expiratory rows, so an empty cell there is scored."""

from variant_cases import INVALID, Prepared

COMPETITION = "ventilator-pressure-prediction"


def empty_unscored_cell(p: Prepared):
    # The perfect submission with the pressure of the first expiratory row left empty:
    # MLE-bench's grader scores it 0.0 (checked); invalid here. (In a scored row both variants
    # find it invalid: scikit-learn refuses NaN.)
    sub = p.perfect[["id", "pressure"]].copy()
    row = p.answers.index[p.answers["u_out"] == 1][0]
    sub.loc[row, "pressure"] = float("nan")
    return sub, {"mlebench": 0.0, "corrected": INVALID}


CASES = {"empty-cells-scored": empty_unscored_cell}
