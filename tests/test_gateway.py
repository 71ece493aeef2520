"""The model gateway: through the real sandbox and the real gateway, against a scripted model
provider on 127.0.0.1 (tests/model_standin.py), an agent reaches its allowed models and nothing
else; every token is counted, budgets hold, the real key stays out of the sandbox, and a failing
gateway or stalling provider ends in bounded time with a clear record."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mlepipe.agents.config import Agent
from mlepipe.gateway import metering
from mlepipe.gateway.harness import GatewaySetupError
from mlepipe.gateway.metering import Meter, StreamUsage, usage_figures
from mlepipe.gateway.records import Records
from mlepipe.harness.run import run_agent
from model_standin import CONTENT, StandIn

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[1]
CONTRACT = Path(__file__).parent / "agents_contract"
ADVERSARIAL = Path(__file__).parent / "agents_adversarial"
needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"
)
runners = ["none", pytest.param("bubblewrap", marks=needs_bwrap)]
MODEL = "standin-1"
KEY_ENV = "MLEPIPE_TEST_MODEL_KEY"
PRICE = {"input": 2.0, "output": 8.0}  # USD per million tokens
P, C = 11, 7  # the stand-in's usage figures per answer


@pytest.fixture
def key(monkeypatch) -> str:
    value = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv(KEY_ENV, value)
    return value


@pytest.fixture
def standin():
    with StandIn(prompt_tokens=P, completion_tokens=C) as s:
        yield s


@pytest.fixture
def prices(tmp_path) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(json.dumps({MODEL: PRICE}))
    return path


class Probe:
    """Runs an agent with a gateway to the stand-in on practice-wine; keeps what it left."""

    def __init__(self, tmp_path, registry, practice_data, standin, prices, key):
        self.tmp, self.registry, self.data = tmp_path, registry, practice_data
        self.standin, self.prices, self.key = standin, prices, key

    def run(self, argv, *, code_dir=CONTRACT, sandbox="bubblewrap", time_limit=120, hw=None,
            **gateway):  # fmt: skip
        spec = {
            "kind": "command", "command": argv, "code_dir": str(code_dir),
            "gateway": {"upstream": self.standin.url, "key_env": KEY_ENV, "models": [MODEL],
                        "anthropic_upstream": self.standin.url, **gateway},
        }  # fmt: skip
        self.run_dir = self.tmp / f"run-{sandbox}"
        hw = hw or {"cpus": 2, "memory_mb": 4096, "gpus": 0, "time_limit_seconds": time_limit}
        self.record = run_agent(
            agent=Agent("probe", spec, REPO / "config"), competition=self.registry.get(
                "practice-wine"), hardware_name="test", hw=hw, seed=0, data_dir=self.data,
            run_dir=self.run_dir, sandbox=sandbox, prices_file=self.prices,
        )  # fmt: skip
        return self.record

    def probe(self, *actions, sandbox="bubblewrap", **kw):
        folder = "/home/agent" if sandbox == "bubblewrap" else str(CONTRACT)
        self.run(["python", f"{folder}/llm_probe.py", *actions], sandbox=sandbox, **kw)
        return self.report()

    def report(self) -> dict:
        out = (self.run_dir / "logs" / "agent.stdout").read_text()
        assert out.strip(), (self.run_dir / "logs" / "agent.stderr").read_text()
        return json.loads(out)

    def log(self) -> list[dict]:
        text = (self.run_dir / "logs" / "gateway.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def probe(tmp_path, registry, practice_data, standin, prices, key) -> Probe:
    return Probe(tmp_path, registry, practice_data, standin, prices, key)


def cost(requests: int) -> float:
    return round(requests * (P * PRICE["input"] + C * PRICE["output"]) / 1e6, 6)


# --- metering ---------------------------------------------------------------------------------


def test_usage_figures_of_each_api_shape():
    assert usage_figures({"usage": {"prompt_tokens": 3, "completion_tokens": 4}}) == (3, 4)
    assert usage_figures({"usage": {"prompt_tokens": 5, "total_tokens": 5}}) == (5, None)
    assert usage_figures({"response": {"usage": {"input_tokens": 6, "output_tokens": 2}}}) == (6, 2)
    anthropic = {"usage": {"input_tokens": 1, "cache_read_input_tokens": 9, "output_tokens": 2}}
    assert usage_figures(anthropic) == (10, 2)
    assert usage_figures({"choices": []}) == (None, None)
    assert usage_figures({"usage": None}) == (None, None)


def test_stream_usage_survives_events_split_anywhere():
    events = (
        b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n'
        b'data: {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 30}}\n\n'
        b"data: [DONE]\n\n"
    )
    for cut in range(1, len(events)):
        stream = StreamUsage()
        stream.feed(events[:cut])
        stream.feed(events[cut:])
        stream.close()
        assert (stream.prompt, stream.completion) == (12, 30), cut


def test_stream_usage_parses_only_the_events_that_can_hold_usage(monkeypatch):
    parsed = []
    loads = json.loads
    monkeypatch.setattr(metering.json, "loads", lambda text: parsed.append(text) or loads(text))
    events = (
        b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n'
        b'data: {"choices": [{"delta": {"content": "caf\\u00e9"}}]}\n\n'
        b'data: {"choices": [], "\\u0075sage": {"prompt_tokens": 4, "completion_tokens": 9}}\n\n'
        b"data: [DONE]\n\n"
    )
    stream = StreamUsage()
    stream.feed(events)
    stream.close()
    assert (stream.prompt, stream.completion) == (4, 9)  # the name spelled in escapes counts
    assert len(parsed) == 2  # the event with an escape and the usage event; not "a", not [DONE]


def test_cost_is_null_for_a_model_without_price_or_without_usage():
    meter = Meter({"priced": {"input": 1.0, "output": 2.0}}, {})
    for model in ("priced", "unpriced"):
        meter.started(model)
        meter.add(model, 1_000_000, 1_000_000, ok=True)
    record = meter.record()
    assert record["by_model"]["priced"]["cost_usd"] == 3.0
    assert record["by_model"]["unpriced"]["cost_usd"] is None
    assert record["cost_usd"] is None
    alone = Meter({"priced": {"input": 1.0, "output": 2.0}}, {})
    alone.started("priced")
    alone.add("priced", None, None, ok=True)  # a success without usage figures
    assert alone.record()["cost_usd"] is None


# --- records ----------------------------------------------------------------------------------


def test_records_are_written_in_order_without_holding_up_the_caller(tmp_path, monkeypatch):
    usage_file = tmp_path / "usage.json"
    records = Records(str(tmp_path / "log.jsonl"), str(tmp_path / "b.gz"), str(usage_file), {})
    assert json.loads(usage_file.read_text()) == {}  # there from the start
    replaced = []
    replace = Path.replace

    def slow_replace(self, target):  # a busy disk: each rename over the old file takes 0.3 s
        replaced.append(json.loads(self.read_text()))
        time.sleep(0.3)
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", slow_replace)
    longest, written = 0.0, []
    for i in range(50):
        bodies = {"request": f"q{i}".encode(), "response": f"r{i}".encode()}
        started = time.monotonic()
        written.append(records.exchange({"id": i}, bodies, {"requests": i + 1}))
        longest = max(longest, time.monotonic() - started)
        time.sleep(0.002)
    assert longest < 0.15  # no handover waited for a write
    written[-1].result(timeout=10)  # done once that exchange and the usage after it are written
    assert json.loads(usage_file.read_text()) == {"requests": 50}
    records.close({"requests": 50, "final": True})
    assert json.loads(usage_file.read_text()) == {"requests": 50, "final": True}
    # Only the newest waiting usage is written: far fewer renames than exchanges, in order.
    assert 2 <= len(replaced) < 10 and replaced[-1] == {"requests": 50, "final": True}
    counts = [u["requests"] for u in replaced]
    assert counts == sorted(counts)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["id"] for e in log] == list(range(50))
    with gzip.open(tmp_path / "b.gz", "rt") as f:
        assert [json.loads(line)["response"] for line in f] == [f"r{i}" for i in range(50)]


# --- through the sandbox ----------------------------------------------------------------------


@pytest.mark.parametrize("sandbox", runners)
def test_tokens_in_run_json_are_what_the_provider_reported(probe, standin, key, sandbox):
    report = probe.probe("chat", "stream", "anthropic", sandbox=sandbox)
    assert report["chat"] == {"status": 200, "content": CONTENT}
    assert report["stream"]["status"] == 200 and report["stream"]["content"] == CONTENT
    # The usage chunk the gateway asked for reaches the agent as sent.
    assert report["stream"]["usage_chunk"] == [
        {"prompt_tokens": P, "completion_tokens": C, "total_tokens": P + C}
    ]
    assert report["anthropic"]["base"] and report["anthropic"]["plain"][0] == 200
    assert report["anthropic"]["stream"][0] == 200
    usage = probe.record["usage"]
    assert probe.record["status"] == "no-submission", probe.record
    assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"]) == (
        4,
        4 * P,
        4 * C,
    )
    assert usage["cost_usd"] == cost(4)
    assert usage["by_model"][MODEL]["price_per_million"] == PRICE
    assert usage["gateway_error"] is None and not usage["budget_exhausted"]
    # The real key went to the provider, added by the gateway; the agent's token did not.
    chat, streamed, plain, anth_stream = standin.requests
    assert chat["headers"]["Authorization"] == f"Bearer {key}"
    assert streamed["body"]["stream_options"] == {"include_usage": True}
    assert plain["headers"]["x-api-key"] == key and "Authorization" not in plain["headers"]
    assert anth_stream["path"] == "/v1/messages"
    log = probe.log()
    assert [e["status"] for e in log] == [200] * 4
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in log] == [(P, C)] * 4
    assert all(e["latency_ms"] > 0 and e["model"] == MODEL for e in log)
    with gzip.open(probe.run_dir / "logs" / "gateway-bodies.jsonl.gz", "rt") as f:
        bodies = [json.loads(line) for line in f]
    assert len(bodies) == 4 and CONTENT in bodies[0]["response"]
    assert json.loads(bodies[0]["request"])["model"] == MODEL
    # The agent is told of its one way out.
    instructions = (probe.run_dir / "home" / "instructions.md").read_text()
    assert "except the model API" in instructions and "$OPENAI_BASE_URL" in instructions


@needs_bwrap
def test_parallel_streamed_requests_all_get_through_and_are_counted(probe):
    report = probe.probe("parallel:8", "parallel:32")
    assert report["parallel:8"] == [200] * 8 and report["parallel:32"] == [200] * 32
    usage = probe.record["usage"]
    assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"]) == (
        40, 40 * P, 40 * C,
    )  # fmt: skip


@needs_bwrap
@pytest.mark.parametrize(
    "budget, accepted, by",
    [({"tokens": 3 * (P + C)}, 3, ["tokens"]), ({"requests": 2}, 2, ["requests"]),
     ({"cost_usd": cost(1) * 1.5}, 2, ["cost_usd"])],
)  # fmt: skip
def test_a_used_up_budget_is_refused_with_429_and_recorded(probe, budget, accepted, by):
    report = probe.probe("until-refused", budget=budget)["until-refused"]
    assert report["accepted"] == accepted and report["status"] == 429
    assert "budget is exhausted" in json.loads(report["error"])["error"]["message"]
    usage = probe.record["usage"]
    assert usage["budget_exhausted"] is True and usage["budget_exhausted_by"] == by
    assert usage["requests"] == accepted and usage["refused"] == 1
    assert probe.log()[-1]["status"] == 429


@needs_bwrap
def test_other_paths_models_and_tokens_are_refused_and_the_provider_is_unreachable(probe, standin):
    report = probe.probe("refusals", f"direct:127.0.0.1:{standin.port}")
    refused = report["refusals"]
    for name in ("other_path", "other_method", "other_model", "wrong_token"):
        status, body = refused[name]
        assert status == 403, (name, body)
        assert json.loads(body)["error"]["message"], name
    assert "not-allowed-x" in refused["other_model"][1] and MODEL in refused["other_model"][1]
    assert [m["id"] for m in json.loads(refused["models"][1])["data"]] == [MODEL]
    assert report[f"direct:127.0.0.1:{standin.port}"].startswith("error")
    assert standin.requests == []  # nothing refused reached the provider
    log = probe.log()
    assert [e["status"] for e in log] == [403, 403, 403, 403, 200]
    assert all(e["error"] for e in log[:4])
    assert probe.record["usage"]["refused"] == 4 and probe.record["usage"]["requests"] == 0


@pytest.mark.parametrize("sandbox", runners)
def test_the_real_key_is_nowhere_inside_the_sandbox(probe, tmp_path, key, sandbox):
    # A decoy of the key's shape, planted where the hunt looks, shows that the hunt finds keys.
    code = tmp_path / "code"
    shutil.copytree(ADVERSARIAL, code)
    decoy = "sk-test-" + secrets.token_hex(16)
    (code / "decoy.txt").write_text(f"api_key = {decoy}\n")
    pattern = "sk-test-[0-9a-f]{32}"
    if sandbox == "bubblewrap":
        # /usr and the Python environment are the host's own read-only folders, where nothing
        # of a run is written; everything else readable is searched.
        skipped = ["/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix]
        argv = ["python", "/home/agent/key_hunt.py", pattern, "/",
                *(f"--skip={p}" for p in skipped)]  # fmt: skip
    else:  # without a sandbox the hunt reads the host's processes only
        argv = ["python", str(code / "key_hunt.py"), pattern, str(code)]
    probe.run(argv, code_dir=code, sandbox=sandbox)
    hunt = probe.report()
    assert decoy in hunt["found"], hunt
    if sandbox == "bubblewrap":
        assert key not in hunt["found"], hunt["found"][key]
        assert hunt["searched"]["files"] > 10 and hunt["searched"]["processes"] >= 2
    else:
        # The control: on the host, the harness's own environment gives the key away.
        assert key in hunt["found"]


def _gateway_processes() -> list[int]:
    """The gateway processes this test process started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if (
                ppid == os.getpid()
                and b"mlepipe.gateway.server" in (entry / "cmdline").read_bytes()
            ):
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@needs_bwrap
def test_a_killed_gateway_stops_the_run_with_a_clear_status(probe):
    def kill_gateway() -> None:
        deadline = time.monotonic() + 60
        while not (pids := _gateway_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2)  # the agent's first call is done by then
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_gateway)
    killer.start()
    started = time.monotonic()
    record = probe.run(["python", "/home/agent/llm_probe.py", "chat", "sleep:300"], time_limit=300)
    killer.join()
    assert time.monotonic() - started < 30
    assert record["status"] == "gateway-error"
    assert "signal 9" in record["usage"]["gateway_error"]
    assert record["usage"]["requests"] == 1  # what was counted before it died is kept
    assert "stopped by the harness" in " ".join(record["sandbox_notes"])
    assert not record["timed_out"]


@needs_bwrap
def test_a_stalling_or_failing_provider_comes_back_as_an_error(probe, standin):
    standin.mode = "stall"
    started = time.monotonic()
    report = probe.probe("chat", timeout_seconds=1.5)
    assert time.monotonic() - started < 30
    assert report["chat"]["status"] == 504
    assert "sent nothing for 1.5 s" in report["chat"]["error"]
    assert probe.record["status"] == "no-submission"
    standin.mode = "error"
    report = probe.probe("chat")
    assert report["chat"]["status"] == 503
    assert json.loads(report["chat"]["error"])["error"]["message"] == "stand-in overloaded"
    assert probe.record["usage"]["requests"] == 1 and probe.record["usage"]["prompt_tokens"] == 0


@needs_bwrap
def test_the_launcher_keeps_exit_codes_and_time_limits(probe):
    started = time.monotonic()
    record = probe.run(["sh", "-c", "exit 7"])
    assert (record["exit_code"], record["status"]) == (7, "crashed")
    assert time.monotonic() - started < 20  # the forwarder does not keep the sandbox alive
    record = probe.run(["sleep", "60"], time_limit=2)
    assert record["timed_out"] and record["status"] == "timeout"
    assert record["wall_seconds"] < 15


def _cgroup_memory_limit_works() -> bool:
    from mlepipe.harness import cgroups

    run = cgroups.create_run_cgroup(64, None, None)
    try:
        return bool(run.enforced.get("memory_mb"))
    finally:
        run.remove()


@needs_bwrap
@pytest.mark.skipif(not _cgroup_memory_limit_works(), reason="no cgroup memory limit here")
def test_the_launcher_keeps_oom_detection(probe):
    hw = {"cpus": 2, "memory_mb": 200, "gpus": 0, "time_limit_seconds": 60}
    record = probe.run(["python", "/home/agent/memory_hog.py", "1500"], code_dir=ADVERSARIAL, hw=hw)
    assert record["oom_killed"] and record["status"] == "oom"


@needs_bwrap
def test_hostile_agents_still_fail_with_a_gateway_attached(probe, standin):
    # The network probe of the sandbox tests, aimed at the provider, with the gateway bound.
    record = probe.run(["python", "/home/agent/net_connect.py", "127.0.0.1", str(standin.port)],
                       code_dir=ADVERSARIAL)  # fmt: skip
    outcome = probe.report()
    assert record["exit_code"] == 0
    assert outcome["connect"].startswith("error") and outcome["dns"].startswith("error")
    record = probe.run(["python", "/home/agent/write_outside.py", "/run/mlepipe", "/home/logs"],
                       code_dir=ADVERSARIAL)  # fmt: skip
    outcome = probe.report()
    assert outcome["/home/logs"] == "written"  # the control
    assert outcome["/run/mlepipe"].startswith("error")


@needs_bwrap
def test_agent_files_under_the_log_names_are_replaced_not_followed(probe, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched\n")
    plant = f"ln -s {outside} /home/logs/gateway.jsonl; mkdir /home/logs/gateway-bodies.jsonl.gz"
    probe.run(["sh", "-c", plant], log_bodies=True)
    logs = probe.run_dir / "logs"
    assert outside.read_text() == "untouched\n"
    assert (logs / "gateway.jsonl").is_file() and not (logs / "gateway.jsonl").is_symlink()
    assert (logs / "gateway-bodies.jsonl.gz").is_file()
    probe.run(["true"], log_bodies=False)
    assert not (probe.run_dir / "logs" / "gateway-bodies.jsonl.gz").exists()


def test_a_missing_key_is_a_setup_error_in_one_line(probe, monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(GatewaySetupError, match=f"host variable {KEY_ENV}"):
        probe.run(["true"], sandbox="none")
    agents = tmp_path / "agents.yaml"
    agents.write_text(
        json.dumps(
            {
                "llm": {
                    "kind": "command",
                    "command": "true",
                    "gateway": {
                        "upstream": "http://127.0.0.1:9/v1",
                        "key_env": KEY_ENV,
                        "models": [MODEL],
                    },
                }
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "mlepipe", "run-agent", "--agent", "llm", "--hardware", "cpu-small",
         "--competition", "practice-wine", "--seed", "0", "--data-dir", str(probe.data),
         "--run-dir", str(tmp_path / "cli-run"), "--sandbox", "none", "--agents-file",
         str(agents), "--hardware-file", str(REPO / "config/hardware.yaml")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert KEY_ENV in done.stderr and "Traceback" not in done.stderr


def test_gateway_settings_are_part_of_the_agent_version():
    gateway = {"upstream": "http://x/v1", "models": ["m"], "budget": {"tokens": 10}}
    spec = {"kind": "command", "command": "true", "gateway": gateway}
    other = json.loads(json.dumps(spec))
    other["gateway"]["budget"]["tokens"] = 20
    assert Agent("a", spec, REPO).version() != Agent("a", other, REPO).version()
