"""google-research-identify-contrails: MLE-bench's Dice of two empty sets is NaN."""

from variant_cases import Prepared

COMPETITION = "google-research-identify-contrails-reduce-global-warming"


def no_contrail_anywhere(p: Prepared):
    # Answers without any contrail (the fixture's have some) and a submission without any:
    # NaN there, a valid submission without a medal (checked with MLE-bench's grader on these
    # answers: nan), 1 here.
    answers = p.answers.assign(encoded_pixels="-")
    return (
        answers[["record_id", "encoded_pixels"]],
        {"mlebench": float("nan"), "corrected": 1.0},
        answers,
    )


CASES = {"all-empty-dice-is-nan": no_contrail_anywhere}
