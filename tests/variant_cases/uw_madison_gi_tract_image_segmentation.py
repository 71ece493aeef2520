"""uw-madison: MLE-bench pairs submission and answer rows by position."""

from variant_cases import Prepared

COMPETITION = "uw-madison-gi-tract-image-segmentation"
COLUMNS = ["id", "class", "predicted"]


def classes_swapped(p: Prepared):
    # The perfect submission with the rows of two classes of one slice (both with a mask)
    # swapped: still perfect here, matched by (id, class); MLE-bench's grader compares each
    # mask with the other class's (0.98, checked).
    sub = p.answers[COLUMNS].copy()  # the answers' row order
    masked = sub[sub["predicted"].fillna("") != ""]
    slice_id = masked["id"][masked["id"].duplicated()].iloc[0]
    i, j = masked.index[masked["id"] == slice_id][:2]
    sub.loc[[i, j]] = sub.loc[[j, i]].to_numpy()
    return sub, {"mlebench": 0.98, "corrected": 1.0}


CASES = {"rows-paired-by-position": classes_swapped}
