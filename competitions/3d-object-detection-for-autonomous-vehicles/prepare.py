"""Splits the driving logs (one scene each) 80/20 into a new train and test set
(train_test_split of log.json's tokens, random_state 0); every table of the nuScenes-style
metadata in train_data/ follows the split, and images and lidar sweeps are copied byte for byte.

A sample belongs to the split of its scene: as in MLE-bench's preparation, a sample's
`scene_token` is looked up among the log tokens (each scene carries its log's token in this
dataset). The test side gets no sample_annotation.json or instance.json, and its answers are
train.csv's prediction strings with a confidence of 1.0 before each object. Unlike MLE-bench's
preparation, train_data/map.json lists the train logs (MLE-bench writes the test logs in
both map.json files).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_files, read_json, write_json

COPIED_TABLES = ("attribute.json", "category.json", "sensor.json", "visibility.json")
MAP_IMAGE = "map_raster_palo_alto.png"
TOKENS_PER_OBJECT = 8  # center_x center_y center_z width length height yaw class_name


def with_confidence(objects: object) -> object:
    """`x y z w l h yaw class ...` -> `1.0 x y z w l h yaw class ...`."""
    if not isinstance(objects, str):
        return objects
    tokens = objects.split(" ")
    if len(tokens) % TOKENS_PER_OBJECT:
        raise PreparationError(
            f"a train.csv prediction string has {len(tokens)} values, not a multiple of "
            f"{TOKENS_PER_OBJECT}: {objects[:80]!r}"
        )
    groups = [tokens[i : i + TOKENS_PER_OBJECT] for i in range(0, len(tokens), TOKENS_PER_OBJECT)]
    return " ".join(" ".join(["1.0", *group]) for group in groups)


def split_rows(rows: list[dict], key: str, train: set, test: set, what: str) -> tuple[list, list]:
    """Rows whose `key` is in `train` / in `test`; a row in neither is an error."""
    left, right = [], []
    for row in rows:
        if row[key] in train:
            left.append(row)
        elif row[key] in test:
            right.append(row)
        else:
            raise PreparationError(f"{what} {row.get('token', '')!r} belongs to no split")
    return left, right


def follow(rows: list[dict], key: str, table: list[dict], *, unique: bool) -> list[dict]:
    """The records of `table` that `rows` point to through `key`, in the order of `rows`."""
    by_token = {record["token"]: record for record in table}
    tokens = [row[key] for row in rows]
    if unique:
        tokens = list(dict.fromkeys(tokens))
    missing = [token for token in tokens if token not in by_token]
    if missing:
        raise PreparationError(
            f"{key} {missing[0]!r} refers to no record; the metadata are incomplete"
        )
    return [by_token[token] for token in tokens]


def prepare(raw: Path, public: Path, private: Path) -> None:
    src, train_dir, test_dir = raw / "train_data", public / "train_data", public / "test_data"

    logs = read_json(src / "log.json")
    log_ids = [log["token"] for log in logs]
    if len(set(log_ids)) != len(log_ids):
        raise PreparationError(f"{src / 'log.json'} lists a log token twice")
    train_logs, test_logs = train_test_split(log_ids, test_size=0.2, random_state=0)
    train_set, test_set = set(train_logs), set(test_logs)
    write_json(train_dir / "log.json", [log for log in logs if log["token"] in train_set])
    write_json(test_dir / "log.json", [log for log in logs if log["token"] in test_set])

    train_samples, test_samples = split_rows(
        read_json(src / "sample.json"), "scene_token", train_set, test_set, "sample"
    )
    write_json(train_dir / "sample.json", train_samples)
    write_json(test_dir / "sample.json", test_samples)

    table = pd.read_csv(raw / "train.csv")
    train_ids = {s["token"] for s in train_samples}
    test_ids = {s["token"] for s in test_samples}
    train_rows = table[table["Id"].isin(train_ids)]
    test_rows = table[table["Id"].isin(test_ids)]
    if len(train_rows) != len(train_samples) or len(test_rows) != len(test_samples):
        raise PreparationError("train.csv must have exactly one row per sample of sample.json")
    train_rows.to_csv(public / "train.csv", index=False)
    answers = test_rows.assign(PredictionString=test_rows["PredictionString"].map(with_confidence))
    answers.to_csv(private / "test.csv", index=False)
    test_rows[["Id"]].assign(PredictionString="").to_csv(
        public / "sample_submission.csv", index=False
    )
    train_ids, test_ids = set(train_rows["Id"]), set(test_rows["Id"])

    sample_data = read_json(src / "sample_data.json")
    train_data, test_data = split_rows(
        sample_data, "sample_token", train_ids, test_ids, "sample data"
    )
    write_json(train_dir / "sample_data.json", train_data)
    write_json(test_dir / "sample_data.json", test_data)

    for name in COPIED_TABLES:
        shutil.copyfile(src / name, train_dir / name)
        shutil.copyfile(src / name, test_dir / name)
    for folder in ("train_maps", "test_maps"):
        (public / folder).mkdir()
        shutil.copyfile(raw / "train_maps" / MAP_IMAGE, public / folder / MAP_IMAGE)

    for name, key, unique in (
        ("calibrated_sensor.json", "calibrated_sensor_token", True),
        ("ego_pose.json", "ego_pose_token", False),
    ):
        records = read_json(src / name)
        write_json(train_dir / name, follow(train_data, key, records, unique=unique))
        write_json(test_dir / name, follow(test_data, key, records, unique=unique))

    maps = read_json(src / "map.json")
    if len(maps) != 1:
        raise PreparationError(f"{src / 'map.json'} lists {len(maps)} maps; one was expected")
    write_json(train_dir / "map.json", [{**maps[0], "log_tokens": list(train_logs)}])
    write_json(test_dir / "map.json", [{**maps[0], "log_tokens": list(test_logs)}])

    train_scenes, test_scenes = split_rows(
        read_json(src / "scene.json"), "log_token", train_set, test_set, "scene"
    )
    write_json(train_dir / "scene.json", train_scenes)
    write_json(test_dir / "scene.json", test_scenes)

    train_annotations, test_annotations = split_rows(
        read_json(src / "sample_annotation.json"),
        "sample_token",
        train_ids,
        test_ids,
        "sample annotation",
    )
    write_json(train_dir / "sample_annotation.json", train_annotations)
    train_instances, _ = split_rows(
        read_json(src / "instance.json"),
        "token",
        {a["instance_token"] for a in train_annotations},
        {a["instance_token"] for a in test_annotations},
        "instance",
    )
    write_json(train_dir / "instance.json", train_instances)
    del train_annotations, test_annotations, train_instances

    copy_sensor_files(raw, public, sample_data, test_ids)


def copy_sensor_files(raw: Path, public: Path, sample_data: list[dict], test_ids: set) -> None:
    """Camera images (jpeg) and lidar sweeps (bin) of each sample datum, by file name, into the
    folders of its split; a file listed twice is copied once."""
    folders = {"jpeg": "images", "bin": "lidar"}
    names: dict[tuple[str, str], list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for datum in sample_data:
        kind = folders.get(datum["fileformat"])
        if kind is None:
            raise PreparationError(f"sample data has an unknown fileformat {datum['fileformat']!r}")
        side = "test" if datum["sample_token"] in test_ids else "train"
        name = Path(datum["filename"]).name
        if (side, name) in seen:
            continue
        seen.add((side, name))
        names.setdefault((side, kind), []).append(name)
    for side in ("train", "test"):
        for kind in folders.values():
            (public / f"{side}_{kind}").mkdir()
            copy_files(
                raw / f"train_{kind}", public / f"{side}_{kind}", names.get((side, kind), [])
            )
