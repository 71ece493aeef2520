"""tweet-sentiment-extraction: MLE-bench's Jaccard of two empty texts fails the submission."""

from variant_cases import INVALID, Prepared

COMPETITION = "tweet-sentiment-extraction"


def an_empty_pair(p: Prepared):
    # Answers whose first tweet selects no text (the fixture's all select some), and the perfect
    # submission, which leaves that cell empty too: refused there (checked with MLE-bench's
    # grader on these answers: invalid), that row scores 0 and the others 1 here.
    answers = p.answers.copy()
    answers.loc[0, "selected_text"] = float("nan")
    sub = answers[["textID", "selected_text"]]
    return sub, {"mlebench": INVALID, "corrected": (len(sub) - 1) / len(sub)}, answers


CASES = {"empty-pair-fails": an_empty_pair}
