"""h-and-m: MLE-bench's answers lose the article ids' leading zero, its grader compares text."""

from variant_cases import Prepared

COMPETITION = "h-and-m-personalized-fashion-recommendations"


def sample_spelling(p: Prepared):
    # The perfect submission, written as the sample writes ids (with the leading zero): MLE-bench
    # finds no hit at all (checked with its grader: 0.0).
    return p.perfect, {"mlebench": 0.0, "corrected": 1.0}


CASES = {"article-ids-as-text": sample_spelling}
