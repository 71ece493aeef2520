"""Holds out 10% of each block of 1,000 training examples as the test set.

simplified-nq-train.jsonl (about 300,000 Wikipedia articles with questions, 17 GB) is read
and written a block of 1,000 examples at a time with pandas' JSON reader and writer, whose
output MLE-bench checksums; each block is split on its own (random_state 0). Example ids are
written as text. The answers keep every field; the public test set keeps the id, question,
document and long-answer candidates. The gold submission takes, per example, the yes/no answer
or else the first short answer (`start:end` tokens) and the long answer, blank when there is
none; the sample submission leaves every answer blank.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.io import write_csv
from mlepipe.preparers.splits import split_indices

BLOCK = 1_000
ID = "example_id"
PUBLIC_FIELDS = [ID, "question_text", "document_text", "long_answer_candidates"]


def _span(answer: dict) -> str:
    return f"{answer['start_token']}:{answer['end_token']}"


def gold_rows(example_id: str, annotations: list[dict]) -> list[dict[str, str]]:
    """The two submission rows (short, then long) that answer one example correctly."""
    (annotation,) = annotations
    if annotation["yes_no_answer"] != "NONE":
        short = annotation["yes_no_answer"]
    elif annotation["short_answers"]:
        short = _span(annotation["short_answers"][0])
    else:
        short = ""
    long = annotation["long_answer"]
    return [
        {ID: f"{example_id}_short", "PredictionString": short},
        {ID: f"{example_id}_long", "PredictionString": _span(long) if long["start_token"] != -1
         else ""},
    ]  # fmt: skip


def prepare(raw: Path, public: Path, private: Path) -> None:
    gold: list[dict[str, str]] = []
    outputs = {
        "train": public / "simplified-nq-train.jsonl",
        "answers": private / "test.jsonl",
        "test": public / "simplified-nq-test.jsonl",
    }
    files = {name: open(path, "w", encoding="utf-8", newline="") for name, path in outputs.items()}
    try:
        with pd.read_json(
            raw / "simplified-nq-train.jsonl", orient="records", lines=True, chunksize=BLOCK
        ) as reader:
            for block in reader:
                block[ID] = block[ID].astype(str)
                train_rows, test_rows = split_indices(len(block), test_size=0.1, random_state=0)
                train, test = block.iloc[train_rows], block.iloc[test_rows]
                files["train"].write(train.to_json(orient="records", lines=True))
                files["answers"].write(test.to_json(orient="records", lines=True))
                files["test"].write(test[PUBLIC_FIELDS].to_json(orient="records", lines=True))
                for example_id, annotations in zip(test[ID], test["annotations"], strict=True):
                    gold.extend(gold_rows(example_id, annotations))
    finally:
        for f in files.values():
            f.close()

    gold_frame = pd.DataFrame(gold, columns=[ID, "PredictionString"])
    write_csv(gold_frame, private / "gold_submission.csv")
    write_csv(gold_frame.assign(PredictionString=""), public / "sample_submission.csv")
