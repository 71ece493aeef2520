"""Uses training fragments 1 and 2 for training and fragment 3 as the single test fragment `a`.

Fragment 3's files are published under public/test/a/ without its ink labels (`inklabels.png`,
`inklabels_rle.csv`) and its infrared photo (`ir.png`, from which the labels were drawn). The
answer is its run-length encoded ink mask with the fragment's width and height, read from the
header of `ir.png`. Every file is copied byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, copy_tree, read_csv, require_columns
from mlepipe.preparers.medical import png_size

HIDDEN = {"inklabels.png", "inklabels_rle.csv", "ir.png"}
TEST_ID = "a"


def prepare(raw: Path, public: Path, private: Path) -> None:
    for fragment in ("1", "2"):
        copy_tree(raw / "train" / fragment, public / "train" / fragment)

    source = raw / "train" / "3"
    answers = read_csv(source / "inklabels_rle.csv")
    require_columns(answers, ["Predicted"], "train/3/inklabels_rle.csv")
    if len(answers) != 1:
        raise PreparationError(
            f"{source / 'inklabels_rle.csv'} should hold one row, found {len(answers)}"
        )
    width, height = png_size(source / "ir.png")
    answers["width"] = width
    answers["height"] = height
    answers["Id"] = TEST_ID
    answers.to_csv(private / "inklabels_rle.csv", index=False)
    answers.drop(columns=["width", "height"]).to_csv(private / "gold_submission.csv", index=False)

    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name in HIDDEN:
            continue
        if path.suffix not in (".png", ".csv", ".tif"):
            raise PreparationError(f"unexpected file {path} in fragment 3 (not png, csv or tif)")
        copy_file(path, public / "test" / TEST_ID / path.relative_to(source))

    pd.DataFrame({"Id": [TEST_ID], "Predicted": ["1 1 5 1"]}).to_csv(
        public / "sample_submission.csv", index=False
    )
