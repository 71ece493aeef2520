"""Preparation helpers for large image collections (retrieval, fine-grained classification,
detection): splitting COCO-style metadata per category, moving members between tar archives
as streams, and reading BSON document dumps one document at a time (image files are copied
byte for byte by `io.copy_files`).

Nothing here decodes an image or holds a whole archive in memory: datasets of this family are
tens to hundreds of gigabytes, and preparation has to run within a few gigabytes of memory.
"""

from __future__ import annotations

import random
import struct
import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import COPY_CHUNK, copy_files, read_json, require, write_json
from mlepipe.preparers.splits import split_within_groups

# --------------------------------------------------------------------------------------------
# Archives, member by member


def split_tar(
    src: Path, outputs: Mapping[str, Path], route: Callable[[str], tuple[str, str] | None]
) -> dict[str, int]:
    """Reads the (possibly compressed) tar `src` as a stream and writes each regular file that
    `route(member name)` sends somewhere, as `(output key, new name)`, into the uncompressed tar
    `outputs[key]`. Member attributes (mtime, mode, owner) are kept, so the output is
    deterministic. Returns the number of files written per output."""
    counts = dict.fromkeys(outputs, 0)
    tars = {
        key: tarfile.open(path, "w", format=tarfile.PAX_FORMAT) for key, path in outputs.items()
    }
    try:
        with tarfile.open(require(src), "r|*") as tin:
            for member in tin:
                if not member.isfile():
                    continue
                target = route(member.name)
                if target is None:
                    continue
                key, new_name = target
                info = tarfile.TarInfo(new_name)
                for attr in ("size", "mtime", "mode", "uid", "gid", "uname", "gname"):
                    setattr(info, attr, getattr(member, attr))
                tars[key].addfile(info, tin.extractfile(member))
                counts[key] += 1
    except tarfile.ReadError as exc:
        raise PreparationError(f"{src} is not a readable tar archive ({exc})") from None
    finally:
        for tar in tars.values():
            tar.close()
    return counts


# --------------------------------------------------------------------------------------------
# COCO-style metadata: one image and one annotation per sample, split per category


Pair = tuple[dict, dict]  # (annotation, image)


def pairs_by_category(metadata: dict, *, image_id_key: str = "id") -> dict[Any, list[Pair]]:
    """Annotations and images (parallel lists) grouped by category, categories in order of first
    appearance and samples in file order."""
    groups: dict[Any, list[Pair]] = {}
    annotations, images = metadata["annotations"], metadata["images"]
    if len(annotations) != len(images):
        raise PreparationError(
            f"metadata lists {len(annotations)} annotations but {len(images)} images; expected one "
            "annotation per image"
        )
    for annotation, image in zip(annotations, images, strict=True):
        if annotation["image_id"] != image[image_id_key]:
            raise PreparationError(
                f"annotation of image {annotation['image_id']!r} is not beside that image (found "
                f"{image[image_id_key]!r}); the metadata file is not in the expected order"
            )
        groups.setdefault(annotation["category_id"], []).append((annotation, image))
    return groups


def shuffled_test(test: dict[Any, list[Pair]]) -> list[Pair]:
    """Test samples of every category, flattened in category order, then shuffled with
    random.Random(0) so that categories are not in runs."""
    flat = [pair for pairs in test.values() for pair in pairs]
    random.Random(0).shuffle(flat)
    return flat


def split_coco_metadata_by_category(
    raw: Path,
    public: Path,
    private: Path,
    *,
    root: str = "",
    encoding: str = "utf-8",
    test_size: float = 0.2,
) -> None:
    """Herbarium-style split (2020 and 2021 layouts): `<root>/train/metadata.json` lists images
    stored at `<root>/train/<file_name>`; 20% of each category becomes a test set.

    Public: `<root>/train/metadata.json` (the train samples, everything else unchanged),
    `<root>/train/<file_name>` images, `<root>/test/metadata.json` (images, info and licenses
    only) with the test images renumbered `0, 1, ...` in shuffled order and stored at
    `<root>/test/images/<idx // 1000:03d>/<idx>.jpg`, and sample_submission.csv (`Id,Predicted`,
    all 0). Private: answers.csv (`Id,Predicted` = category id)."""
    raw_root, public_root = raw / root, public / root
    metadata = read_json(raw_root / "train" / "metadata.json", encoding=encoding)
    train, test = split_within_groups(pairs_by_category(metadata), test_size, small_groups=True)

    train_pairs = [pair for pairs in train.values() for pair in pairs]
    metadata["annotations"] = [a for a, _ in train_pairs]
    metadata["images"] = [i for _, i in train_pairs]
    names = [i["file_name"] for _, i in train_pairs]
    copy_files(raw_root / "train", public_root / "train", names)
    write_json(public_root / "train" / "metadata.json", metadata, indent=4, sort_keys=True)

    test_images, answers = [], []
    old_names, new_names = [], []
    for idx, (annotation, image) in enumerate(shuffled_test(test)):
        new_name = f"images/{idx // 1000:03d}/{idx}.jpg"
        old_names.append(image["file_name"])
        new_names.append(new_name)
        test_images.append({**image, "id": str(idx), "file_name": new_name})
        answers.append((str(idx), annotation["category_id"]))
    copy_files(raw_root / "train", public_root / "test", old_names, dst_names=new_names)
    public_test = {
        "images": test_images,
        "info": metadata["info"],
        "licenses": metadata["licenses"],
    }
    write_json(public_root / "test" / "metadata.json", public_test, indent=4, sort_keys=True)
    del metadata, train_pairs, train, test

    frame = pd.DataFrame(answers, columns=["Id", "Predicted"])
    frame.to_csv(private / "answers.csv", index=False)
    frame.assign(Predicted=0).to_csv(public / "sample_submission.csv", index=False)


# --------------------------------------------------------------------------------------------
# BSON document streams (the dump format of MongoDB), read and written without a driver


_FIXED_SIZES = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}


def iter_bson(path: Path) -> Iterator[bytes]:
    """The documents of a BSON file, one `bytes` object each (length prefix included)."""
    offset = 0
    with open(require(path), "rb", buffering=COPY_CHUNK) as f:
        while head := f.read(4):
            if len(head) < 4:
                raise PreparationError(f"{path}: truncated document at byte {offset}")
            (size,) = struct.unpack("<i", head)
            body = f.read(size - 4) if size >= 5 else b""
            if size < 5 or len(body) != size - 4 or body[-1:] != b"\x00":
                raise PreparationError(
                    f"{path}: malformed document at byte {offset} (declared size {size}); the file "
                    "is truncated or not BSON"
                )
            yield head + body
            offset += size


def bson_elements(doc: bytes) -> Iterator[tuple[int, str, int, int, int]]:
    """Top-level elements of a document: (type, name, element start, value start, end)."""
    pos, end = 4, len(doc) - 1
    while pos < end:
        start, kind = pos, doc[pos]
        name_end = doc.index(b"\x00", pos + 1)
        name = doc[pos + 1 : name_end].decode("utf-8")
        value = name_end + 1
        if kind in _FIXED_SIZES:
            stop = value + _FIXED_SIZES[kind]
        elif kind in (0x02, 0x0D, 0x0E):  # string, JavaScript code, symbol
            stop = value + 4 + struct.unpack_from("<i", doc, value)[0]
        elif kind in (0x03, 0x04):  # document, array
            stop = value + struct.unpack_from("<i", doc, value)[0]
        elif kind == 0x05:  # binary: length, subtype, bytes
            stop = value + 5 + struct.unpack_from("<i", doc, value)[0]
        else:
            raise PreparationError(f"BSON element {name!r} has unsupported type 0x{kind:02x}")
        yield kind, name, start, value, stop
        pos = stop


def bson_ints(doc: bytes, names: tuple[str, ...]) -> tuple[int, ...]:
    """The integer values of the named top-level fields (int32, int64 or integral double)."""
    found: dict[str, int] = {}
    for kind, name, _, value, _ in bson_elements(doc):
        if name in names:
            if kind == 0x10:
                found[name] = struct.unpack_from("<i", doc, value)[0]
            elif kind == 0x12:
                found[name] = struct.unpack_from("<q", doc, value)[0]
            elif kind == 0x01:
                found[name] = int(struct.unpack_from("<d", doc, value)[0])
            else:
                raise PreparationError(f"BSON field {name!r} is not a number (type 0x{kind:02x})")
            if len(found) == len(names):
                break
    missing = [n for n in names if n not in found]
    if missing:
        raise PreparationError(f"a BSON document has no field {missing[0]!r}")
    return tuple(found[n] for n in names)


def bson_rewrite(doc: bytes, *, drop: frozenset[str] = frozenset()) -> bytes:
    """The document as a standard driver re-encodes it after decoding: the named top-level fields
    removed and `_id` moved first; every other byte unchanged. (Drivers decode int32, int64,
    doubles, strings and binary into types that encode back to the same bytes.)"""
    spans = [(name, start, stop) for _, name, start, _, stop in bson_elements(doc)]
    names = [name for name, _, _ in spans]
    if not drop.intersection(names) and ("_id" not in names or names[0] == "_id"):
        return doc
    order = [span for span in spans if span[0] == "_id"] + [
        span for span in spans if span[0] != "_id" and span[0] not in drop
    ]
    body = b"".join(doc[start:stop] for _, start, stop in order)
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def encode_bson(document: Mapping[str, Any]) -> bytes:
    """A document of ints, floats, strings, bytes (binary), bools, None, lists and mappings,
    encoded the way standard drivers do: `_id` first, ints as int32 when they fit, else int64."""
    items = sorted(document.items(), key=lambda item: item[0] != "_id")  # stable: _id first
    return _encode_document(items)


def _encode_document(items: Iterable[tuple[Any, Any]]) -> bytes:
    body = b"".join(_encode_element(str(k), v) for k, v in items)
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def _encode_element(name: str, value: Any) -> bytes:
    key = name.encode("utf-8") + b"\x00"
    if isinstance(value, bool):
        return b"\x08" + key + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return b"\x10" + key + struct.pack("<i", value)
        return b"\x12" + key + struct.pack("<q", value)
    if isinstance(value, float):
        return b"\x01" + key + struct.pack("<d", value)
    if isinstance(value, str):
        data = value.encode("utf-8") + b"\x00"
        return b"\x02" + key + struct.pack("<i", len(data)) + data
    if isinstance(value, (bytes, bytearray)):
        return b"\x05" + key + struct.pack("<i", len(value)) + b"\x00" + bytes(value)
    if value is None:
        return b"\x0a" + key
    if isinstance(value, Mapping):
        return b"\x03" + key + _encode_document(value.items())
    if isinstance(value, (list, tuple)):
        return b"\x04" + key + _encode_document((str(i), v) for i, v in enumerate(value))
    raise TypeError(f"cannot encode {type(value).__name__} as BSON")
