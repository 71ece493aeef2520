"""Holds out 10% of Kaggle's labelled question-answer pairs as the test set.

`question_type_spelling` is almost always 0. If the held-out rows hold a single value of it,
the first held-out row and the first new training row with a non-zero value trade places, so
that every answer column varies (a Spearman correlation needs variation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlepipe.preparers.io import read_csv, write_csv
from mlepipe.preparers.splits import split_indices

ID = "qa_id"
TARGETS = [
    "question_asker_intent_understanding", "question_body_critical", "question_conversational",
    "question_expect_short_answer", "question_fact_seeking",
    "question_has_commonly_accepted_answer", "question_interestingness_others",
    "question_interestingness_self", "question_multi_intent", "question_not_really_a_question",
    "question_opinion_seeking", "question_type_choice", "question_type_compare",
    "question_type_consequence", "question_type_definition", "question_type_entity",
    "question_type_instructions", "question_type_procedure", "question_type_reason_explanation",
    "question_type_spelling", "question_well_written", "answer_helpful",
    "answer_level_of_information", "answer_plausible", "answer_relevance", "answer_satisfaction",
    "answer_type_instructions", "answer_type_procedure", "answer_type_reason_explanation",
    "answer_well_written",
]  # fmt: skip
RARE = "question_type_spelling"


def prepare(raw: Path, public: Path, private: Path) -> None:
    pairs = read_csv(raw / "train.csv")
    train_rows, test_rows = split_indices(len(pairs), test_size=0.1, random_state=0)
    rare = pairs[RARE].to_numpy()
    if pairs[RARE].iloc[test_rows].nunique() == 1:
        first = int(np.flatnonzero(rare[train_rows] != 0)[0])
        train_rows[first], test_rows[0] = test_rows[0], train_rows[first]
    train, test = pairs.iloc[train_rows], pairs.iloc[test_rows]

    answers = test[[ID, *TARGETS]]
    sample = answers.copy()
    # Spearman needs variation: each column rises evenly from 0 to 1.
    sample[TARGETS] = np.tile(np.linspace(0, 1, len(sample))[:, None], (1, len(TARGETS)))
    write_csv(answers, private / "test.csv")
    write_csv(train, public / "train.csv")
    write_csv(test.drop(columns=TARGETS), public / "test.csv")
    write_csv(sample, public / "sample_submission.csv")
