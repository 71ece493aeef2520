"""Writes docs/grading-variants.md, the list of grading rules (where the mlebench and corrected
grading variants differ), from the competitions' definitions.

    python scripts/grading_rules_doc.py [--check]

--check writes nothing and exits 1 when the committed file is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlepipe.grading.variants import rules_markdown
from mlepipe.registry import Registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "grading-variants.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    text = rules_markdown(Registry())
    if args.check:
        current = DOC.is_file() and DOC.read_text() == text
        print(f"{DOC}: {'up to date' if current else 'out of date'}")
        return 0 if current else 1
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
