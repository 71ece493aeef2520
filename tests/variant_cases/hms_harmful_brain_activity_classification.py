"""hms: MLE-bench pairs the windows of an EEG after an unstable sort by eeg_id."""

from pathlib import Path

import pandas as pd
import pytest

from variant_cases import Prepared

COMPETITION = "hms-harmful-brain-activity-classification"


def eegs_reordered(p: Prepared):
    # The perfect submission with its EEGs in reverse order, each EEG's windows in their own
    # order: a perfect 0 here; MLE-bench's sort pairs some windows with another window's votes
    # (7.26123 from its grader with numpy 2.0.2, checked on an AVX-512 machine; numpy's
    # quicksort on a CPU without AVX-512 may order the windows otherwise, and so may this).
    cpu = Path("/proc/cpuinfo")
    if not cpu.is_file() or " avx512f" not in cpu.read_text():
        pytest.skip("the expected score was measured where numpy sorts with AVX-512; not here")
    sub = p.perfect.copy()
    blocks = [g for _, g in sub.groupby("eeg_id", sort=False)]
    return pd.concat(blocks[::-1], ignore_index=True), {"mlebench": 7.26123, "corrected": 0.0}


CASES = {"eeg-rows-paired-by-sort": eegs_reordered}
