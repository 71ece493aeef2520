"""Grading: from a submission file to a grade record with MLE-bench's fields.

- `checks`: reading a submission and checking it against the answers or the public sample
  submission (the checks `mlepipe validate` and the grader share), GradingSpec,
  InvalidSubmission;
- `scoring`: the answers, the score as the competition's grading block declares it, rounding
  and the metric's direction;
- `medals`: medal thresholds from a leaderboard by Kaggle's rules, and the medal a score earns;
- `leaderboards`: where thresholds come from, the Kaggle leaderboard download included;
- `report`: CompetitionReport, the grade of one submission or one finished run, MLE-bench's
  summary of a batch.

The grader's version (a rule param of the pipeline) is a digest of this subpackage, of
mlepipe.metrics and of the competition's grading definition. Modules here may import
mlepipe.registry, mlepipe.metrics and, for the Kaggle client only, mlepipe.sources; never the
harness, the agents or the preparers.
"""
