"""Hunt for an API key inside the sandbox: the environment, /proc/*/environ and cmdline of every
visible process, and every readable file under the given roots (folders named after `--skip`
left out). Prints JSON: the strings found that match the key pattern, where, and how much was
searched. The agent knows the pattern, not the key."""

import json
import os
import re
import stat
import sys
from pathlib import Path

args = sys.argv[1:]
pattern = re.compile(args[0].encode())
roots = [a for a in args[1:] if not a.startswith("--skip=")]
skip = {a[len("--skip=") :] for a in args[1:] if a.startswith("--skip=")}
found: dict[str, list[str]] = {}
searched = {"files": 0, "bytes": 0, "processes": 0}


def look(where: str, data: bytes) -> None:
    for match in set(pattern.findall(data)):
        found.setdefault(match.decode(errors="replace"), []).append(where)


look("environment", "\n".join(f"{k}={v}" for k, v in os.environ.items()).encode())
for entry in Path("/proc").iterdir():
    if entry.name.isdigit():
        searched["processes"] += 1
        for name in ("environ", "cmdline"):
            try:
                look(f"/proc/{entry.name}/{name}", (entry / name).read_bytes())
            except OSError:
                pass
for root in roots:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
        for name in files:
            path = os.path.join(folder, name)
            try:  # a fifo or device must not block the hunt: regular files only
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                data = f.read(64 * 1024 * 1024)
            searched["files"] += 1
            searched["bytes"] += len(data)
            look(path, data)
print(json.dumps({"found": found, "searched": searched}))
