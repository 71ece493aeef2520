"""An agent that tries everything it must not be able to do, records each attempt's outcome in
$LOGS_DIR/report.json ("blocked: ..." or "ESCAPED: ..."), and leaves a symlinked submission.

Used by the pipeline tests through config/agents.yaml as a `command` agent."""

import json
import os
import socket

from attempts import attempt, report

logs = os.environ.get("LOGS_DIR", "/home/logs")


def find_private_answers():
    """Walk the visible filesystem for any prepared private folder (bounded)."""
    seen = 0
    for top in ("/", "/home", "/tmp", "/work", "/root", "/opt", "/mnt", "/srv"):
        for dirpath, dirnames, filenames in os.walk(top):
            seen += 1
            if seen > 20000:
                break
            if os.path.basename(dirpath) == "private" and filenames:
                with open(os.path.join(dirpath, filenames[0])) as f:
                    return f"{dirpath}: {f.read(50)!r}"
            dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "dev")]
    raise FileNotFoundError("no private folder visible")


def connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        return f"connected to {host}:{port}"


def write(path):
    with open(path, "w") as f:
        f.write("x")
    return f"wrote {path}"


def host_process():
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    if len(pids) > 20:
        return f"{len(pids)} processes visible"
    raise PermissionError(f"only {len(pids)} own processes visible")


# The submission is a symlink to what would be the answers (also to a host file).
os.makedirs("/home/submission", exist_ok=True)
os.symlink("/etc/passwd", "/home/submission/submission.csv")

attempt("read private answers", find_private_answers)
attempt("read the host's password hashes", lambda: open("/etc/shadow").read(20))
attempt("network: public DNS", lambda: connect("1.1.1.1", 53))
attempt("network: host loopback ssh", lambda: connect("127.0.0.1", 22))
attempt("network: name resolution", lambda: socket.gethostbyname("example.com"))
attempt("write into the public data", lambda: write("/home/data/planted.csv"))
attempt("write into /usr", lambda: write("/usr/planted"))
attempt("write into the package", lambda: write("/opt/mlepipe/mlepipe/planted.py"))
attempt("see host processes", host_process)

with open(os.path.join(logs, "report.json"), "w") as f:
    json.dump(report, f, indent=2)
