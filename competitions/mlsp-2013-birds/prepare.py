"""A new test set from the competition's labelled recordings (fold 0 of CVfolds_2.txt).

The original test recordings have no public labels, so they are dropped. Of the 322 labelled
recordings, 20% (pandas `sample(frac=0.2, random_state=0)`) become the new test fold, and every
recording is renumbered 0..n-1 in its original order. Each text table keyed by rec_id is
rewritten with the new ids; recordings and images are copied byte for byte.

The answers hold one row per (recording, species): Id = rec_id * 100 + species, Probability 1
where the species is present, else 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.io import copy_file, extract_zip, read_csv, require, write_csv

N_SPECIES = 19
TEST_FRACTION = 0.2
ROOT = "mlsp_contest_dataset"
SPECTROGRAM_FOLDERS = ("filtered_spectrograms", "spectrograms", "supervised_segmentation")
# Per-recording feature tables; rewritten with new ids under one generic header (as MLE-bench
# writes them).
FEATURE_TABLES = ("histogram_of_segments.txt", "segment_features.txt", "segment_rectangles.txt")
FEATURE_HEADER = "rec_id,[histogram of segment features]"


def _data_lines(path: Path) -> list[str]:
    """The lines of a text table after its header."""
    return require(path).read_text().splitlines()[1:]


def _rec_id_and_rest(line: str) -> tuple[int, str]:
    rec_id, _, rest = line.partition(",")
    return int(rec_id), rest


def _write_lines(path: Path, header: str, lines: list[str]) -> None:
    with open(path, "w", newline="\n") as f:
        f.write(header + "\n")
        f.writelines(line + "\n" for line in lines)


def prepare(raw: Path, public: Path, private: Path) -> None:
    extract_zip(raw / f"{ROOT}.zip", raw)
    essential, supplemental = raw / ROOT / "essential_data", raw / ROOT / "supplemental_data"
    (public / "essential_data").mkdir()
    (public / "supplemental_data").mkdir()

    folds = read_csv(essential / "CVfolds_2.txt")
    folds = folds[folds["fold"] == 0].reset_index(drop=True)
    folds.loc[folds.sample(frac=TEST_FRACTION, random_state=0).index, "fold"] = 1
    new_id = {int(old): new for new, old in enumerate(folds["rec_id"])}
    folds["rec_id"] = folds.index
    write_csv(folds, public / "essential_data" / "CVfolds_2.txt")
    test_ids = set(folds.loc[folds["fold"] == 1, "rec_id"])

    filenames = read_csv(essential / "rec_id2filename.txt")
    filenames = filenames[filenames["rec_id"].isin(list(new_id))].copy()
    filenames["rec_id"] = filenames["rec_id"].map(new_id)
    write_csv(filenames, public / "essential_data" / "rec_id2filename.txt")

    labels = []  # (new rec_id, comma-separated species ids), in the labels file's order
    for line in _data_lines(essential / "rec_labels_test_hidden.txt"):
        rec_id, species = _rec_id_and_rest(line)
        if rec_id in new_id:
            labels.append((new_id[rec_id], species))
    public_labels = [
        f"{rec},?" if rec in test_ids else (f"{rec},{species}" if species else str(rec))
        for rec, species in labels
    ]
    labels_path = public / "essential_data" / "rec_labels_test_hidden.txt"
    _write_lines(labels_path, "rec_id,[labels]", public_labels)

    answers = {"Id": [], "Probability": []}
    for rec, species in labels:
        if rec not in test_ids:
            continue
        present = {int(s) for s in species.split(",") if s != ""}
        for s in range(N_SPECIES):
            answers["Id"].append(rec * 100 + s)
            answers["Probability"].append(int(s in present))
    write_csv(pd.DataFrame(answers), private / "answers.csv")
    ordered_test = folds.loc[folds["fold"] == 1, "rec_id"]
    sample = pd.DataFrame(
        {"Id": [rec * 100 + s for rec in ordered_test for s in range(N_SPECIES)], "Probability": 0}
    )
    write_csv(sample, public / "sample_submission.csv")

    copy_file(essential / "species_list.txt", public / "essential_data" / "species_list.txt")
    wavs = public / "essential_data" / "src_wavs"
    wavs.mkdir()
    for folder in (*SPECTROGRAM_FOLDERS, "segmentation_examples"):
        (public / "supplemental_data" / folder).mkdir()
    for name in filenames["filename"]:
        copy_file(essential / "src_wavs" / f"{name}.wav", wavs / f"{name}.wav")
        for folder in SPECTROGRAM_FOLDERS:
            src = supplemental / folder / f"{name}.bmp"
            copy_file(src, public / "supplemental_data" / folder / src.name)
        # only some training recordings have a hand-drawn segmentation example
        example = supplemental / "segmentation_examples" / f"{name}.bmp"
        if example.is_file():
            dst = public / "supplemental_data" / "segmentation_examples" / example.name
            copy_file(example, dst)
    for name in ("segment_clusters.bmp", "segment_mosaic.bmp"):
        copy_file(supplemental / name, public / "supplemental_data" / name)

    for table in FEATURE_TABLES:
        rows = [_rec_id_and_rest(line) for line in _data_lines(supplemental / table)]
        kept = [f"{new_id[rec]},{rest}" for rec, rest in rows if rec in new_id]
        _write_lines(public / "supplemental_data" / table, FEATURE_HEADER, kept)
