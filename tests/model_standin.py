"""A stand-in for a model provider: a scripted OpenAI- and Anthropic-compatible server on
127.0.0.1 (aiohttp) that answers with fixed content and fixed usage figures, and can be told to
fail or to stall. No model runs anywhere; the tests and the benchmark use it as the gateway's
upstream.

    with StandIn(prompt_tokens=11, completion_tokens=7) as standin:
        standin.url            # http://127.0.0.1:PORT/v1, an upstream for the gateway
        standin.requests       # what it received: path, headers, body

A ``reply`` function scripts the answers: given a request's body and the text of its prompt, it
returns the text of the answer, or a dict, the arguments of a call to the one function (tool)
the request offers. Chat completions (``tool_calls``) and the Responses API (``function_call``
items, not streamed) answer with such calls.

Also runnable alone: `python tests/model_standin.py --port 8000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Callable

from aiohttp import web

CONTENT = "The stand-in model says: predict the majority class."


def prompt_text(body: dict) -> str:
    """All the text of a chat (``messages``) or Responses API (``input``) request."""
    items = body.get("messages") or body.get("input") or []
    if isinstance(items, str):
        return items
    parts = []
    for item in items:
        content = item.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts += [c.get("text", "") for c in content or [] if isinstance(c, dict)]
    return "\n".join(parts)


def offered_tool(body: dict) -> str | None:
    """The name of the function the request offers (chat or Responses API form), if any."""
    for tool in body.get("tools") or []:
        return (tool.get("function") or tool).get("name")
    return None


class StandIn:
    def __init__(
        self,
        content: str = CONTENT,
        prompt_tokens: int = 11,
        completion_tokens: int = 7,
        mode: str = "ok",  # ok | error | stall
        chunk_delay: float = 0.0,
        port: int = 0,
        reply: Callable[[dict, str], str | dict] | None = None,
    ) -> None:
        self.content, self.mode, self.chunk_delay = content, mode, chunk_delay
        self.reply = reply or (lambda body, prompt: self.content)
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.requests: list[dict] = []
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/responses", self.responses)
        app.router.add_post("/v1/messages", self.messages)
        return app

    # --- answers -----------------------------------------------------------------------------

    async def _received(self, request: web.Request) -> dict:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if self.mode == "stall":
            await asyncio.sleep(3600)
        return body

    def _usage(self) -> dict:
        p, c = self.prompt_tokens, self.completion_tokens
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._received(request)
        if self.mode == "error":
            error = {"error": {"message": "stand-in overloaded", "type": "server_error"}}
            return web.json_response(error, status=503)
        model, created = body.get("model"), int(time.time())
        if not body.get("stream"):
            answer = self.reply(body, prompt_text(body))
            message: dict = {"role": "assistant", "content": answer}
            if isinstance(answer, dict):
                call = {"name": offered_tool(body), "arguments": json.dumps(answer)}
                message = {"role": "assistant", "content": None,
                           "tool_calls": [{"id": "call_standin", "type": "function",
                                           "function": call}]}  # fmt: skip
            return web.json_response({
                "id": "chatcmpl-standin", "object": "chat.completion", "created": created,
                "model": model, "usage": self._usage(),
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
            })  # fmt: skip
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)

        async def event(data: dict | str) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            await out.write(f"data: {text}\n\n".encode())
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)

        base = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": created,
                "model": model}  # fmt: skip
        for word in self.content.split(" "):
            delta = {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
            await event({**base, "choices": [delta]})
        await event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await event({**base, "choices": [], "usage": self._usage()})
        await event("[DONE]")
        await out.write_eof()
        return out

    async def responses(self, request: web.Request) -> web.StreamResponse:
        """The Responses API, not streamed: a message, or a call to the function offered."""
        body = await self._received(request)
        if self.mode == "error" or body.get("stream"):
            error = {"error": {"message": "stand-in overloaded", "type": "server_error"}}
            return web.json_response(error, status=503)
        answer = self.reply(body, prompt_text(body))
        if isinstance(answer, dict):
            item = {"type": "function_call", "id": "fc_standin", "call_id": "call_standin",
                    "name": offered_tool(body), "arguments": json.dumps(answer),
                    "status": "completed"}  # fmt: skip
        else:
            text = {"type": "output_text", "text": answer, "annotations": []}
            item = {"type": "message", "id": "msg_standin", "role": "assistant",
                    "status": "completed", "content": [text]}  # fmt: skip
        p, c = self.prompt_tokens, self.completion_tokens
        return web.json_response({
            "id": "resp_standin", "object": "response", "created_at": int(time.time()),
            "model": body.get("model"), "status": "completed", "output": [item],
            "parallel_tool_calls": False, "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "usage": {"input_tokens": p, "output_tokens": c, "total_tokens": p + c,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}},
        })  # fmt: skip

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._received(request)
        usage = {"input_tokens": self.prompt_tokens, "output_tokens": self.completion_tokens}
        message = {
            "id": "msg_standin", "type": "message", "role": "assistant", "model": body.get("model"),
            "content": [{"type": "text", "text": self.content}], "stop_reason": "end_turn",
        }  # fmt: skip
        if not body.get("stream"):
            return web.json_response({**message, "usage": usage})
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)
        start = {**message, "content": [], "usage": {"input_tokens": self.prompt_tokens,
                                                     "output_tokens": 1}}  # fmt: skip
        events = [
            ("message_start", {"type": "message_start", "message": start}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": self.content}}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                               "usage": {"output_tokens": self.completion_tokens}}),
            ("message_stop", {"type": "message_stop"}),
        ]  # fmt: skip
        for name, data in events:
            await out.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await out.write_eof()
        return out

    # --- running in a thread -------------------------------------------------------------------

    def __enter__(self) -> StandIn:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the model stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    async def _serve(self) -> None:
        self._loop, self._stopped = asyncio.get_running_loop(), asyncio.Event()
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--socket", help="also listen on this Unix socket")
    args = parser.parse_args()
    web.run_app(StandIn(chunk_delay=args.chunk_delay).app(), host="127.0.0.1", port=args.port,
                path=args.socket, print=None)  # fmt: skip
