"""Records MLE-bench's category of each competition (`mlebench_category:` in
competitions/<id>/competition.yaml) from the competition table in MLE-bench's README
(github.com/openai/mle-bench: "Competition ID | Category | Dataset Size (GB)").

    python scripts/mlebench_categories.py /path/to/mle-bench/README.md [--competitions-dir DIR]

The README lists the Lite (low) competitions; MLE-bench keeps the full list in
experiments/competition_categories.csv, stored with Git LFS. The line goes after `category:`
(our own coarser kind of data), replacing an earlier one; other lines stay as written. Prints
what it changed. Exit 2, with one line, on bad input.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEADER = re.compile(r"^\|\s*Competition ID\s*\|\s*Category\s*\|", re.IGNORECASE)
KEY = "mlebench_category"


def readme_categories(text: str) -> dict[str, str]:
    """{competition id: category} from the README's competition table."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if HEADER.match(line):
            next(lines, None)  # the |---|---| line
            for row in lines:
                cells = [c.strip() for c in row.strip().strip("|").split("|")]
                if not row.startswith("|") or len(cells) < 2:
                    break
                out[cells[0]] = cells[1]
            break
    return out


def with_category(definition: str, category: str) -> str:
    """The definition's text with `mlebench_category: <category>` after its `category:` line."""
    lines = [x for x in definition.splitlines() if not x.startswith(f"{KEY}:")]
    at = next(i for i, x in enumerate(lines) if x.startswith("category:"))
    lines.insert(at + 1, f"{KEY}: {category}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("readme", type=Path, help="MLE-bench's README.md")
    parser.add_argument("--competitions-dir", type=Path, default=REPO / "competitions")
    args = parser.parse_args(argv)
    try:
        categories = readme_categories(args.readme.read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"error: cannot read {args.readme}: {exc.strerror}", file=sys.stderr)
        return 2
    if not categories:
        print(f"error: no 'Competition ID | Category' table in {args.readme}", file=sys.stderr)
        return 2
    for cid, category in sorted(categories.items()):
        path = args.competitions_dir / cid / "competition.yaml"
        if not path.is_file():
            print(f"{cid}: no definition here, skipped")
            continue
        old = path.read_text(encoding="utf-8")
        new = with_category(old, category)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"{cid}: {category}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
