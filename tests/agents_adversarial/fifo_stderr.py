"""Replace the harness's capture of stderr with a fifo, then exit 1: a harness that opens it
to look for bubblewrap's complaint would block forever."""

import os
import sys

stderr = os.path.join(os.environ.get("LOGS_DIR", "/home/logs"), "agent.stderr")
os.unlink(stderr)
os.mkfifo(stderr)
sys.exit(1)
