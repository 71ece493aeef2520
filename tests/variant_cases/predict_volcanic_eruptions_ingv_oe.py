"""predict-volcanic-eruptions: MLE-bench merges on segment_id, so a repeated id counts twice."""

import pandas as pd

from variant_cases import INVALID, Prepared

COMPETITION = "predict-volcanic-eruptions-ingv-oe"


def a_repeated_segment(p: Prepared):
    # The perfect submission plus its first segment again, 1,000,000 off: that row counts in
    # MLE-bench's mean over all merged rows (checked with its grader: 200000 for the fixture's
    # 4 segments).
    extra = p.perfect.iloc[[0]].copy()
    extra["time_to_eruption"] += 1_000_000
    sub = pd.concat([p.perfect, extra], ignore_index=True)
    return sub, {"mlebench": round(1_000_000 / len(sub)), "corrected": INVALID}


CASES = {"repeated-ids-merged": a_repeated_segment}
