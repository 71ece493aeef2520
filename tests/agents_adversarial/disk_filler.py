"""Fill the disk: write 8 MB files into the code folder without end, as fast as it can.

With an argument, also try one single file of that many MB first (the kernel's file size limit
refuses it past the quota). Prints how far it got.
"""

import os
import sys

code = os.environ.get("CODE_DIR", "/home/code")
chunk = b"\0" * (8 << 20)
if len(sys.argv) > 1:
    try:
        with open(os.path.join(code, "huge.bin"), "wb") as f:
            for _ in range(int(sys.argv[1]) // 8):
                f.write(chunk)
    except OSError as exc:
        print(f"single file refused: {exc}", flush=True)
written = 0
while True:
    with open(os.path.join(code, f"fill-{written}.bin"), "wb") as f:
        f.write(chunk)
    written += 1
    if written % 16 == 0:
        print(f"{written * 8} MB written", flush=True)
