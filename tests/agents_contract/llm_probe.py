"""A test agent that talks to its model gateway with the standard library only (http.client)
and prints one JSON object: what each action saw. Actions (arguments, in order):

    chat              one chat completion
    stream            one streamed chat completion
    parallel:N        N streamed chat completions at once
    until-refused     chat completions until one is refused (at most 100)
    refusals          another path, method, model and token, and the model list
    anthropic         one Anthropic message, plain and streamed
    direct:HOST:PORT  a direct connection to HOST:PORT (the provider, bypassing the gateway)
    submit            copies the sample submission to the submission folder
    sleep:S           waits S seconds
"""

import http.client
import json
import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE = urlsplit(os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"))
KEY = os.environ.get("OPENAI_API_KEY", "")
MODEL = os.environ.get("GATEWAY_MODELS", "none").split(",")[0]


def call(method, path, body=None, key=None, headers=None):
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=60)
    sent = {"Authorization": f"Bearer {KEY if key is None else key}", **(headers or {})}
    data = None
    if body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        return response.status, response.read().decode()
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def chat(stream=False, model=None, key=None):
    body = {"model": model or MODEL, "messages": [{"role": "user", "content": "hello"}]}
    if stream:
        body["stream"] = True
    status, text = call("POST", "/v1/chat/completions", body, key)
    result = {"status": status}
    if status == 200 and stream:
        events = [json.loads(line[5:]) for line in text.splitlines()
                  if line.startswith("data:") and line[5:].strip() != "[DONE]"]  # fmt: skip
        result["content"] = "".join(
            c["delta"].get("content", "") for e in events for c in e["choices"]
        ).strip()
        result["usage_chunk"] = [e["usage"] for e in events if e.get("usage")]
    elif status == 200:
        result["content"] = json.loads(text)["choices"][0]["message"]["content"]
    else:
        result["error"] = text
    return result


def parallel(n):
    results = [None] * n

    def one(i):
        results[i] = chat(stream=True)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r["status"] for r in results]


def until_refused():
    for done in range(100):
        result = chat()
        if result["status"] != 200:
            return {"accepted": done, "status": result["status"], "error": result.get("error")}
    return {"accepted": 100, "status": None}


def refusals():
    hello = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    return {
        "other_path": call("POST", "/v1/files", hello),
        "other_method": call("GET", "/v1/chat/completions"),
        "other_model": call("POST", "/v1/chat/completions", {**hello, "model": "not-allowed-x"}),
        "wrong_token": call("POST", "/v1/chat/completions", hello, key="guessed-key"),
        "models": call("GET", "/v1/models"),
    }


def anthropic():
    base = urlsplit(os.environ.get("ANTHROPIC_BASE_URL", ""))
    out = {"base": f"{base.hostname}:{base.port}" == f"{BASE.hostname}:{BASE.port}"}
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    key = os.environ.get("ANTHROPIC_API_KEY", "")
    out["plain"] = call("POST", "/v1/messages", body, headers={"x-api-key": key})
    out["stream"] = call(
        "POST", "/v1/messages", {**body, "stream": True}, headers={"x-api-key": key}
    )
    return out


def direct(host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return "connected"
    except OSError as exc:
        return f"error: {type(exc).__name__}"


def submit():
    data = Path(os.environ["DATA_DIR"])
    sample = next(p for p in sorted(data.iterdir()) if "sample" in p.name and p.suffix == ".csv")
    shutil.copy(sample, Path(os.environ["SUBMISSION_DIR"]) / "submission.csv")
    return sample.name


report = {}
for action in sys.argv[1:]:
    name, _, arg = action.partition(":")
    if name == "chat":
        report[action] = chat()
    elif name == "stream":
        report[action] = chat(stream=True)
    elif name == "parallel":
        report[action] = parallel(int(arg))
    elif name == "until-refused":
        report[action] = until_refused()
    elif name == "refusals":
        report[action] = refusals()
    elif name == "anthropic":
        report[action] = anthropic()
    elif name == "direct":
        report[action] = direct(*arg.split(":"))
    elif name == "submit":
        report[action] = submit()
    elif name == "sleep":
        time.sleep(float(arg))
print(json.dumps(report))
