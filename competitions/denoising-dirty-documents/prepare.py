"""Splits the scanned pages that have a cleaned version into a new train and test set.

public/ gets the noisy train and test pages and the cleaned train pages (PNG files copied byte for
byte); private/answers.csv holds every pixel of the cleaned test pages, one row per pixel:
`id` = `<page>_<row>_<col>` (1-based) and `value` = intensity / 255.

The answers have millions of rows, so they are written with vectorised string operations: every
possible intensity (0..255) is formatted once, exactly as pandas writes a float64.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError

# How pandas writes each float64 intensity / 255 in a CSV (shortest round-trip repr).
_TEXT = np.dtypes.StringDType()
_VALUE_TEXT = np.array([repr(float(v)) for v in np.arange(256) / 255.0], dtype=_TEXT)


def _png_members(archive: zipfile.ZipFile, folder: str) -> dict[str, str]:
    """File name -> member name of the PNGs directly inside `folder/` of the archive."""
    out = {}
    for name in archive.namelist():
        path = PurePosixPath(name)
        if path.parent.as_posix() == folder and path.suffix == ".png":
            out[path.name] = name
    return out


def _copy(archive: zipfile.ZipFile, members: dict[str, str], names: list[str], dest: Path) -> None:
    dest.mkdir()
    for name in names:
        (dest / name).write_bytes(archive.read(members[name]))


def pixel_ids(page: str, height: int, width: int) -> np.ndarray:
    """`<page>_<row>_<col>` (1-based) of every pixel, row by row, each followed by a comma."""
    rows = np.strings.add(f"{page}_", np.arange(1, height + 1).astype(_TEXT))
    cols = np.strings.add(np.strings.add("_", np.arange(1, width + 1).astype(_TEXT)), ",")
    return np.strings.add(rows[:, None], cols[None, :]).ravel()


def _lines(cells: np.ndarray) -> str:
    return "\n".join(cells.tolist()) + "\n"


def prepare(raw: Path, public: Path, private: Path) -> None:
    with (
        zipfile.ZipFile(raw / "train.zip") as noisy,
        zipfile.ZipFile(raw / "train_cleaned.zip") as cleaned,
    ):
        noisy_members = _png_members(noisy, "train")
        cleaned_members = _png_members(cleaned, "train_cleaned")
        if sorted(noisy_members) != sorted(cleaned_members):
            raise PreparationError(
                f"{raw / 'train.zip'} and {raw / 'train_cleaned.zip'} hold different pages; "
                "the download looks wrong, fetch it again"
            )
        # The split is drawn over the page names in sorted order.
        pages = sorted(noisy_members)
        train_pages, test_pages = train_test_split(pages, test_size=0.2, random_state=0)
        test_pages = sorted(test_pages)

        _copy(noisy, noisy_members, train_pages, public / "train")
        _copy(noisy, noisy_members, test_pages, public / "test")
        _copy(cleaned, cleaned_members, train_pages, public / "train_cleaned")

        with (
            open(private / "answers.csv", "w", encoding="utf-8", newline="") as answers,
            open(public / "sampleSubmission.csv", "w", encoding="utf-8", newline="") as sample,
        ):
            answers.write("id,value\n")
            sample.write("id,value\n")
            for name in test_pages:
                with Image.open(io.BytesIO(cleaned.read(cleaned_members[name]))) as image:
                    pixels = np.asarray(image.convert("L"))
                ids = pixel_ids(PurePosixPath(name).stem, *pixels.shape)
                answers.write(_lines(np.strings.add(ids, _VALUE_TEXT[pixels.ravel()])))
                # The sample predicts 1 (white paper) for every pixel.
                sample.write(_lines(np.strings.add(ids, "1")))
