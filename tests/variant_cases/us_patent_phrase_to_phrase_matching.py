"""us-patent-phrase-to-phrase-matching: MLE-bench reports NaN for an undefined correlation."""

from variant_cases import Prepared

COMPETITION = "us-patent-phrase-to-phrase-matching"


def the_sample_submission(p: Prepared):
    # The sample's constant zeros: NaN there, a valid submission without a medal (checked
    # with MLE-bench's grader: nan), a correlation of 0 here.
    return p.sample, {"mlebench": float("nan"), "corrected": 0.0}


CASES = {"undefined-correlation-is-nan": the_sample_submission}
