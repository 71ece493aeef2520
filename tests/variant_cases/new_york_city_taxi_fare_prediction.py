"""new-york-city-taxi: MLE-bench sorts by key and pairs by position, never comparing keys."""

from variant_cases import Prepared

COMPETITION = "new-york-city-taxi-fare-prediction"


def keys_not_in_the_test_set(p: Prepared):
    # The perfect fares under keys that name no test ride, in the same sorted order: MLE-bench
    # scores them as perfect (its grader on this submission: 0.0).
    sub = p.perfect[["key", "fare_amount"]].copy()
    sub["key"] = "x" + sub["key"].astype(str)
    return sub, {"mlebench": 0.0, "corrected": "invalid"}


CASES = {"rows-by-sorted-key": keys_not_in_the_test_set}
