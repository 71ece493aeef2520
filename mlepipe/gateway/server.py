"""The host side of one run's model gateway: an HTTP proxy on a Unix socket (aiohttp).

    python -m mlepipe.gateway.server CONFIG.json

Every request must carry the run's token (`Authorization: Bearer` or `x-api-key`), use one of
the API paths below, and name an allowed model; otherwise it is refused (403, a JSON error) and
logged. Past a budget the answer is 429. An accepted request goes to the configured upstream
with the real key added here (`Authorization: Bearer` for OpenAI-compatible APIs, `x-api-key`
for Anthropic's); the upstream's status and body come back as they are, streams chunk by chunk.
`GET /v1/models` is answered here with the allowed models.

An OpenAI stream (chat or completions) is sent upstream with `stream_options.include_usage`
set, so that its last chunk reports the tokens; that chunk (empty `choices`, then `usage`) is
passed through to the agent like every other.

Written while running (files in the gateway's private folder, moved to the run's logs/ by the
harness once the agent has ended): the usage so far (JSON, replaced after every exchange), one
JSON line per exchange (time, method, path, model, status, tokens, latency, error) and, unless
`log_bodies` is false, a gzip of JSON lines with each exchange's request and response bodies.
A thread of their own writes them (records.py), so that a slow disk never holds up a stream.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from mlepipe.gateway.metering import Meter, StreamUsage, usage_figures
from mlepipe.gateway.records import Records

OPENAI, ANTHROPIC, MODELS = "openai", "anthropic", "models"
ROUTES = {
    ("POST", "/v1/chat/completions"): OPENAI,
    ("POST", "/v1/completions"): OPENAI,
    ("POST", "/v1/responses"): OPENAI,
    ("POST", "/v1/embeddings"): OPENAI,
    ("GET", "/v1/models"): MODELS,
    ("POST", "/v1/messages"): ANTHROPIC,
}
USAGE_OPTION_PATHS = ("/v1/chat/completions", "/v1/completions")
PASSED_HEADERS = ("accept", "openai-beta", "anthropic-version", "anthropic-beta")
ANTHROPIC_VERSION = "2023-06-01"
MAX_REQUEST_BYTES = 64 * 1024 * 1024


class Refused(Exception):
    """A request answered by the gateway itself with an error (status, kind, message)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class UpstreamFailed(Refused):
    """A forwarded request whose upstream could not be reached or stalled (not a refusal)."""


def error_body(kind: str, message: str) -> dict[str, Any]:
    """An error in the shape OpenAI's and Anthropic's clients both read a message from."""
    return {"type": "error", "error": {"message": message, "type": kind, "code": kind}}


class Gateway:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.token = config["token"]
        self.key = os.environ.get(config["key_env"], "") if config.get("key_env") else ""
        self.models = list(config["models"])
        self.meter = Meter(config["prices"], config["budget"])
        self.timeout = float(config["timeout_seconds"])
        self.records = Records(
            config["log"], config.get("bodies"), config["usage"], self.meter.record()
        )
        self.session: aiohttp.ClientSession | None = None
        self.exchanges = 0

    # --- one exchange ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        self.exchanges += 1
        entry: dict[str, Any] = {
            "id": self.exchanges, "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method, "path": request.path, "model": None, "status": None,
            "stream": False, "prompt_tokens": None, "completion_tokens": None, "error": None,
        }  # fmt: skip
        bodies = {"request": b"", "response": b""}
        try:
            response = await self._exchange(request, entry, bodies)
        except Refused as exc:
            self.meter.refused += not isinstance(exc, UpstreamFailed)
            response = self._error(exc.status, exc.kind, exc.message, entry, bodies)
        except Exception as exc:  # a fault here is the gateway's: answered and logged
            message = f"model gateway error: {type(exc).__name__}: {exc}"
            response = self._error(500, "gateway_error", message, entry, bodies)
        finally:
            entry["latency_ms"] = round((time.monotonic() - started) * 1000, 2)
        entry["status"] = response.status
        written = self.records.exchange(entry, bodies, self.meter.record())
        if not response.prepared:  # a plain answer leaves once its exchange is on disk
            await asyncio.wrap_future(written)
        return response

    def _error(
        self, status: int, kind: str, message: str, entry: dict, bodies: dict[str, bytes]
    ) -> web.Response:
        entry["error"] = message
        bodies["response"] = json.dumps(error_body(kind, message)).encode()
        return web.Response(status=status, body=bodies["response"], content_type="application/json")

    async def _exchange(
        self, request: web.Request, entry: dict[str, Any], bodies: dict[str, bytes]
    ) -> web.StreamResponse:
        api = ROUTES.get((request.method, request.path))
        if api is None:
            raise Refused(
                403, "path_not_allowed",
                f"{request.method} {request.path} is not forwarded by the model gateway; "
                f"allowed: {', '.join(f'{m} {p}' for m, p in ROUTES)}",
            )  # fmt: skip
        if not self._token_ok(request):
            raise Refused(403, "invalid_token", "wrong or missing API key for the model gateway")
        if api == MODELS:
            listing = [{"id": m, "object": "model", "owned_by": "gateway"} for m in self.models]
            return web.json_response({"object": "list", "data": listing})
        if api == ANTHROPIC and not self.config.get("anthropic_upstream"):
            raise Refused(403, "path_not_allowed", "this agent's gateway has no Anthropic upstream")
        raw = await request.read()
        bodies["request"] = raw
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Refused(400, "invalid_request", "the request body must be a JSON object")
        model = body.get("model")
        entry["model"] = model
        if model not in self.models:
            raise Refused(
                403, "model_not_allowed",
                f"model {model!r} is not allowed for this agent; allowed: {', '.join(self.models)}",
            )  # fmt: skip
        refusal = self.meter.refusal()
        if refusal:
            raise Refused(429, "budget_exhausted", refusal)
        entry["stream"] = bool(body.get("stream"))
        if entry["stream"] and request.path in USAGE_OPTION_PATHS:
            options = (
                body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
            )
            body["stream_options"] = {**options, "include_usage": True}
            raw = json.dumps(body).encode()
        self.meter.started(model)
        try:
            return await self._forward(request, api, raw, model, entry, bodies)
        except TimeoutError:
            raise UpstreamFailed(
                504, "upstream_timeout", f"the model upstream sent nothing for {self.timeout:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamFailed(
                502, "upstream_unreachable", f"model upstream failed: {exc}"
            ) from None

    def _token_ok(self, request: web.Request) -> bool:
        given = request.headers.get("x-api-key", "")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _forward(
        self,
        request: web.Request,
        api: str,
        raw: bytes,
        model: str,
        entry: dict[str, Any],
        bodies: dict[str, bytes],
    ) -> web.StreamResponse:
        base = self.config["anthropic_upstream" if api == ANTHROPIC else "upstream"].rstrip("/")
        headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
        headers["Content-Type"] = "application/json"
        if api == ANTHROPIC:
            headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
            if self.key:
                headers["x-api-key"] = self.key
        elif self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        assert self.session is not None
        url = base + request.path[len("/v1") :]
        async with self.session.post(url, data=raw, headers=headers) as upstream:
            ok = 200 <= upstream.status < 300
            kept = {"Content-Type": upstream.headers.get("Content-Type", "application/json")}
            if upstream.content_type != "text/event-stream":
                payload = await upstream.read()
                bodies["response"] = payload
                try:
                    prompt, completion = usage_figures(json.loads(payload))
                except ValueError:
                    prompt, completion = None, None
                self._meter(model, prompt, completion, ok, entry)
                return web.Response(status=upstream.status, body=payload, headers=kept)
            out = web.StreamResponse(status=upstream.status, headers=kept)
            out.headers["Cache-Control"] = "no-cache"
            await out.prepare(request)
            stream, seen = StreamUsage(), []
            try:
                async for chunk in upstream.content.iter_any():
                    stream.feed(chunk)
                    if self.records.keeps_bodies:
                        seen.append(chunk)
                    await out.write(chunk)
                await out.write_eof()
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
                entry["error"] = f"stream broken off: {type(exc).__name__}: {exc}"
                if request.transport is not None:  # the agent sees the stream cut off
                    request.transport.close()
            finally:
                stream.close()
                bodies["response"] = b"".join(seen)
                self._meter(model, stream.prompt, stream.completion, ok, entry)
            return out

    def _meter(
        self, model: str, prompt: int | None, completion: int | None, ok: bool, entry: dict
    ) -> None:
        self.meter.add(model, prompt, completion, ok)
        entry["prompt_tokens"], entry["completion_tokens"] = prompt, completion

    def close(self) -> None:
        self.records.close(self.meter.record())


async def serve(config: dict[str, Any]) -> None:
    """Serve on the configured socket until SIGTERM or SIGINT."""
    gateway = Gateway(config)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=gateway.timeout)
    # No connection limit: every parallel request of the agent goes out at once.
    connector = aiohttp.TCPConnector(limit=0)
    gateway.session = aiohttp.ClientSession(timeout=timeout, connector=connector)
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_route("*", "/{path:.*}", gateway.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.UnixSite(runner, config["socket"]).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await gateway.session.close()
        gateway.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mlepipe.gateway.server CONFIG.json", file=sys.stderr)
        return 2
    asyncio.run(serve(json.loads(Path(args[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
