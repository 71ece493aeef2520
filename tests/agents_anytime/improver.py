"""A scripted agent that improves its submission on a schedule (spaceship-titanic).

- at 0 s: the sample submission (valid, poor);
- at 3 s: a one-rule guess, Transported = CryoSleep (valid, better, no medal);
- at 12 s or later: the baseline agent's submission (a medal), unless SEED is odd.

Each version is written to a temporary name and renamed into /home/submission, and a copy goes
to /home/logs/v<i>.csv with the agent's own elapsed time in /home/logs/schedule.jsonl. Before it
ends, the agent looks for the harness's snapshots anywhere it can see and writes what it found
(nothing, in a sound sandbox) to /home/logs/found.txt.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import time

START = time.monotonic()
DATA, SUB, LOGS, CODE = (
    os.environ[k] for k in ("DATA_DIR", "SUBMISSION_DIR", "LOGS_DIR", "CODE_DIR")
)


def wait_until(seconds):
    time.sleep(max(0.0, seconds - (time.monotonic() - START)))


def publish(i, source):
    tmp = os.path.join(SUB, ".submission.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, os.path.join(SUB, "submission.csv"))
    shutil.copyfile(source, os.path.join(LOGS, f"v{i}.csv"))
    with open(os.path.join(LOGS, "schedule.jsonl"), "a") as f:
        f.write(json.dumps({"version": i, "elapsed_s": time.monotonic() - START}) + "\n")


publish(0, os.path.join(DATA, "sample_submission.csv"))

# A rule that needs no model: passengers in cryosleep were transported.
rule = os.path.join(CODE, "rule.csv")
with open(os.path.join(DATA, "test.csv")) as f, open(rule, "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["PassengerId", "Transported"])
    for row in csv.DictReader(f):
        writer.writerow([row["PassengerId"], row["CryoSleep"] == "True"])
wait_until(3)
publish(1, rule)

if int(os.environ["SEED"]) % 2 == 0:
    model_dir = os.path.join(CODE, "model")
    os.makedirs(model_dir, exist_ok=True)
    env = {**os.environ, "SUBMISSION_DIR": model_dir}
    subprocess.run(
        [sys.executable, "-m", "mlepipe.agents.baseline"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(12)
    publish(2, os.path.join(model_dir, "submission.csv"))

# What the harness keeps: an index, a folder of snapshots, files named by their SHA-256.
found = []
for top in ("/home", "/tmp", "/opt", "/var", "/run", "/mnt", "/srv", "/root"):
    for folder, dirs, files in os.walk(top):
        found += [os.path.join(folder, n) for n in dirs if n in ("snapshots", "grades")]
        found += [
            os.path.join(folder, n)
            for n in files
            if n == "snapshots.jsonl" or (len(n) == 68 and n.endswith(".csv"))
        ]
with open(os.path.join(LOGS, "found.txt"), "w") as f:
    f.write("\n".join(found))
time.sleep(2)
