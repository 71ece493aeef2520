"""Preparation helpers for scan, mask and other per-case datasets (medical imaging, segmentation,
and a few competitions shaped like them).

These datasets come as one folder of files per patient, study, case or record (DICOM series,
PNG slices, TIFFs, .npy arrays, videos). Splits are made on those ids, so that no patient is in
both the training and the test set, and the folders are copied byte for byte, never decoded.
Masks that answers need are written as run-length encodings (RLE).

The splits are `splits.split_ids` and the copies `io.copy_tree`/`io.copy_trees`; what is this
family's own is here:

    from mlepipe.preparers.medical import npy_shape, png_size, rle_encode
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import require


def rle_encode(mask: np.ndarray, foreground: int = 1) -> list[int]:
    """Run-length encoding of a 2-D mask (a trailing axis of size 1 is allowed): 1-based
    (start, length) pairs of the pixels equal to `foreground`, numbered down the columns first
    (column-major order)."""
    flat = np.asarray(mask).T.reshape(-1) == foreground
    padded = np.concatenate([[False], flat, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[0::2], edges[1::2]
    pairs = np.empty(2 * len(starts), dtype=np.int64)
    pairs[0::2] = starts + 1
    pairs[1::2] = ends - starts
    return pairs.tolist()


def npy_shape(path: Path) -> tuple[int, ...]:
    """The array shape recorded in a .npy file's header (the data are not read)."""
    try:
        with open(require(path), "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            if major == 1:
                shape, _, _ = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(f)
    except (ValueError, SyntaxError) as exc:
        raise PreparationError(f"{path} is not a readable .npy file: {exc}") from None
    return tuple(int(n) for n in shape)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG from its IHDR chunk, without decoding the image."""
    with open(require(path), "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise PreparationError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)
