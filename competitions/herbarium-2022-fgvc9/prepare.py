"""Splits every species' specimens 80/20 into a new train and test set (train_test_split,
random_state 0) and renumbers the images so that ids have no gaps.

Train images become `<category:05d>__<n:03d>` (n counting from 1 within the species) stored at
`train_images/<aaa>/<bb>/<id>.jpg`; test images are shuffled (random.Random(0)) and become
`0, 1, ...` stored at `test_images/<idx // 1000:03d>/test-<idx:06d>.jpg`. test_metadata.json
holds only the test images' records. Images are copied byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.collections import pairs_by_category, shuffled_test
from mlepipe.preparers.io import copy_files, read_json, write_json
from mlepipe.preparers.splits import split_within_groups

SAMPLE_GUESS = 42


def prepare(raw: Path, public: Path, private: Path) -> None:
    metadata = read_json(raw / "train_metadata.json")
    groups = pairs_by_category(metadata, image_id_key="image_id")
    train, test = split_within_groups(groups, 0.2, small_groups=False)
    del groups

    annotations, images, old_names, new_names = [], [], [], []
    for category, pairs in train.items():
        folder = f"{category // 100:03d}/{category % 100:02d}"
        for n, (annotation, image) in enumerate(pairs, start=1):
            image_id = f"{category:05d}__{n:03d}"
            name = f"{folder}/{image_id}.jpg"
            annotations.append({**annotation, "image_id": image_id})
            images.append({**image, "image_id": image_id, "file_name": name})
            old_names.append(image["file_name"])
            new_names.append(name)
    copy_files(raw / "train_images", public / "train_images", old_names, dst_names=new_names)
    metadata["annotations"], metadata["images"] = annotations, images
    write_json(public / "train_metadata.json", metadata, indent=4, sort_keys=True)
    del metadata, annotations, images, train

    test_images, answers, old_names, new_names = [], [], [], []
    for idx, (annotation, image) in enumerate(shuffled_test(test)):
        name = f"{idx // 1000:03d}/test-{idx:06d}.jpg"
        test_images.append({**image, "image_id": str(idx), "file_name": name})
        answers.append((str(idx), annotation["category_id"]))
        old_names.append(image["file_name"])
        new_names.append(name)
    copy_files(raw / "train_images", public / "test_images", old_names, dst_names=new_names)
    write_json(public / "test_metadata.json", test_images, indent=4, sort_keys=True)

    frame = pd.DataFrame(answers, columns=["Id", "Predicted"])
    frame.to_csv(private / "answers.csv", index=False)
    frame.assign(Predicted=SAMPLE_GUESS).to_csv(public / "sample_submission.csv", index=False)
