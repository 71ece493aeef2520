"""Keeps 10% of the labelled CT studies for training and turns the other 90% into the test set.

Two subsets of the studies carry extra annotations: bounding boxes (train_bounding_boxes.csv)
and segmentations (segmentations/<StudyInstanceUID>.nii), and some studies have both. The new
training set takes 10% of each subset and of their overlap, then random other studies up to 10%
of all studies, drawing everything from one `random.Random(0)` in a fixed order. The test set
becomes one row per study and target (`patient_overall`, `C1`...`C7`). The studies' DICOM folders
are copied unchanged to public/train_images/ and public/test_images/.
"""

from __future__ import annotations

import random
from pathlib import Path

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, copy_trees, read_csv, require_columns

ID = "StudyInstanceUID"
TARGETS = ["patient_overall", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
TRAIN_FRACTION = 0.1


def _draw(rng: random.Random, population: list[str], k: int, what: str) -> list[str]:
    if not 0 <= k <= len(population):
        raise PreparationError(
            f"cannot draw {k} {what} from {len(population)}; the raw data do not have the "
            "proportions of the original download"
        )
    return rng.sample(population, k)


def prepare(raw: Path, public: Path, private: Path) -> None:
    rng = random.Random(0)
    studies = read_csv(raw / "train.csv")
    require_columns(studies, [ID, *TARGETS], "train.csv")
    boxes = read_csv(raw / "train_bounding_boxes.csv")
    require_columns(boxes, [ID], "train_bounding_boxes.csv")

    boxed = sorted(boxes[ID].unique())
    segmented = sorted(p.stem for p in (raw / "segmentations").glob("*.nii"))
    segmented_set = set(segmented)
    both = [uid for uid in boxed if uid in segmented_set]
    both_set = set(both)

    chosen_both = _draw(rng, both, round(len(both) * TRAIN_FRACTION), "studies with both")
    extra_segmented = _draw(
        rng,
        [uid for uid in segmented if uid not in both_set],
        round(len(segmented) * TRAIN_FRACTION) - len(chosen_both),
        "segmented studies",
    )
    extra_boxed = _draw(
        rng,
        [uid for uid in boxed if uid not in both_set],
        round(len(boxed) * TRAIN_FRACTION) - len(chosen_both),
        "studies with boxes",
    )
    train_ids = chosen_both + extra_segmented + extra_boxed
    taken = set(train_ids)
    train_ids += _draw(
        rng,
        [uid for uid in studies[ID] if uid not in taken],
        round(len(studies) * TRAIN_FRACTION) - len(train_ids),
        "other studies",
    )

    in_train = studies[ID].isin(train_ids)
    train = studies[in_train]
    train.to_csv(public / "train.csv", index=False)
    boxes[boxes[ID].isin(chosen_both + extra_boxed)].to_csv(
        public / "train_bounding_boxes.csv", index=False
    )

    # One row per study and target, targets in column order, then studies in file order.
    answers = studies[~in_train].melt(
        id_vars=ID, var_name="prediction_type", value_name="fractured"
    )
    answers["row_id"] = answers[ID] + "_" + answers["prediction_type"]
    answers.to_csv(private / "answers.csv", index=False)
    answers[["row_id"]].assign(fractured=0.5).to_csv(public / "sample_submission.csv", index=False)
    answers.drop(columns=["fractured"]).to_csv(public / "test.csv", index=False)

    for uid in chosen_both + extra_segmented:
        copy_file(raw / "segmentations" / f"{uid}.nii", public / "segmentations" / f"{uid}.nii")
    (public / "segmentations").mkdir(exist_ok=True)
    copy_trees(raw / "train_images", public / "train_images", train[ID])
    copy_trees(raw / "train_images", public / "test_images", studies.loc[~in_train, ID])
