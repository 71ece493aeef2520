"""The files a gateway writes while it runs (exchange log, bodies, usage), by a thread of their own.

Replacing the usage file after every exchange means a rename over the old one, which on ext4
first flushes the new file's data: well under a millisecond on an idle disk, tens of milliseconds
on a busy one. Done on the event loop, that held up every stream in flight and cost a tenth of
the throughput at 32 concurrent streams. Here the loop only hands over what to write: each
exchange's log entry and bodies, kept in order, and the usage record after it, of which only the
newest waiting one is written (each record holds the running totals, not an increment).

The counts and budgets the gateway enforces stay in memory and are never held back by a write.
`exchange` returns a future done once that exchange is on disk: a plain answer waits for it
before it leaves (that exchange alone, not the others in flight), so an agent that has its answer
finds it counted even if the gateway is killed next. A stream has ended by the time it is handed
over and does not wait. `close` writes everything still waiting: once the gateway has stopped,
its files are complete.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

Exchange = tuple[dict[str, Any], dict[str, bytes], Future]


class Records:
    def __init__(self, log: str, bodies: str | None, usage: str, usage_now: dict) -> None:
        self._log = open(log, "a", encoding="utf-8")  # noqa: SIM115 (open for the run)
        self._bodies = gzip.open(bodies, "at") if bodies else None
        self._usage = Path(usage)
        self._save_usage(usage_now)  # the file exists from the start, should the gateway die
        self._waiting: list[Exchange] = []
        self._usage_waiting: dict | None = None
        self._closing = False
        self._wake = threading.Condition()
        self._writer = threading.Thread(target=self._write_all, name="records", daemon=True)
        self._writer.start()

    @property
    def keeps_bodies(self) -> bool:
        return self._bodies is not None

    def exchange(self, entry: dict[str, Any], bodies: dict[str, bytes], usage: dict) -> Future:
        """Hands over one exchange (neither dict is changed afterwards) and the usage after it;
        the future is done once both are written."""
        written: Future = Future()
        with self._wake:
            self._waiting.append((entry, bodies, written))
            self._usage_waiting = usage
            self._wake.notify()
        return written

    def close(self, usage: dict) -> None:
        """Writes what is waiting and the final usage, and closes the files."""
        with self._wake:
            self._usage_waiting = usage
            self._closing = True
            self._wake.notify()
        self._writer.join()
        self._log.close()
        if self._bodies is not None:
            self._bodies.close()

    def _write_all(self) -> None:
        while True:
            with self._wake:
                while not (self._waiting or self._usage_waiting or self._closing):
                    self._wake.wait()
                exchanges, self._waiting = self._waiting, []
                usage, self._usage_waiting = self._usage_waiting, None
                closing = self._closing
            try:
                self._write(exchanges, usage)
            except OSError as exc:  # a full disk: said in gateway.stderr, the gateway goes on
                print(f"mlepipe.gateway: cannot write its records: {exc}", file=sys.stderr)
            for *_, written in exchanges:
                written.set_result(None)
            if closing:
                return

    def _write(self, exchanges: list[Exchange], usage: dict | None) -> None:
        if exchanges:
            self._log.writelines(json.dumps(entry) + "\n" for entry, *_ in exchanges)
            self._log.flush()
        if exchanges and self._bodies is not None:
            for entry, bodies, _ in exchanges:
                text = {k: v.decode("utf-8", errors="replace") for k, v in bodies.items()}
                self._bodies.write(json.dumps({"id": entry["id"], **text}) + "\n")
            self._bodies.flush()
        if usage is not None:
            self._save_usage(usage)

    def _save_usage(self, usage: dict) -> None:
        part = self._usage.with_name(self._usage.name + ".part")
        part.write_text(json.dumps(usage))
        part.replace(self._usage)
