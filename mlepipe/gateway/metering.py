"""Usage, cost and budgets of one run's model calls, from the `usage` fields the APIs report.

Token counts are the upstream's own figures, never estimates: OpenAI's `prompt_tokens` and
`completion_tokens` (chat, completions, embeddings), `input_tokens` and `output_tokens`
(responses API, Anthropic; Anthropic's cache reads and writes count as input). A streamed
response carries them in its events; the last figure seen for a field is the total (Anthropic
sends the output count cumulatively). A successful response without usage figures is counted as
unmetered, and the cost of its model is then unknown (null), as is the cost of a model without a
price: a cost is never guessed.

Prices: USD per million input and output tokens per model name (config/prices.yaml, checked
against mlepipe/schemas/prices.yaml).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlepipe.schemas import ConfigError, validate

BUDGET_KEYS = ("tokens", "cost_usd", "requests")
_INPUT_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def load_prices(path: Path) -> dict[str, dict[str, float]]:
    """The prices table: model name -> {input, output} in USD per million tokens."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"prices file {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    validate("prices", data, str(path))
    return {str(model): {k: float(v) for k, v in p.items()} for model, p in data.items()}


def gateway_prices(agent, prices_file: Path) -> str:
    """The prices of the models an agent's gateway allows, as text ("" without a gateway): a
    rerun trigger for that agent's runs, which record their cost."""
    spec = agent.spec.get("gateway")
    if not spec:
        return ""
    prices = load_prices(prices_file) if Path(prices_file).is_file() else {}
    return json.dumps({m: prices.get(m) for m in spec["models"]}, sort_keys=True)


def usage_figures(obj: Any) -> tuple[int | None, int | None]:
    """(prompt, completion) tokens in one response body or stream event; None where absent."""
    if not isinstance(obj, dict):
        return None, None
    usage = obj.get("usage")
    for holder in ("response", "message"):  # responses API and Anthropic stream events
        if not isinstance(usage, dict) and isinstance(obj.get(holder), dict):
            usage = obj[holder].get("usage")
    if not isinstance(usage, dict):
        return None, None

    def count(*names: str) -> int | None:
        found = [usage[n] for n in names if isinstance(usage.get(n), int)]
        return sum(found) if found else None

    prompt = count("prompt_tokens")
    if prompt is None:
        prompt = count(*_INPUT_FIELDS)
    completion = count("completion_tokens")
    if completion is None:
        completion = count("output_tokens")
    return prompt, completion


class StreamUsage:
    """Reads the usage figures out of a server-sent event stream, fed chunk by chunk."""

    def __init__(self) -> None:
        self._pending = b""
        self.prompt: int | None = None
        self.completion: int | None = None

    def feed(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self._line(line.strip())

    def close(self) -> None:
        self._line(self._pending.strip())
        self._pending = b""

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        # Only an event that names `usage` can hold figures, and JSON can spell that name only
        # as it is or with \u escapes: other events (nearly all of a stream) are not parsed.
        if b"usage" not in line and b"\\u" not in line:
            return
        try:
            event = json.loads(line[5:])
        except ValueError:  # "[DONE]" and anything else that is not JSON
            return
        prompt, completion = usage_figures(event)
        self.prompt = prompt if prompt is not None else self.prompt
        self.completion = completion if completion is not None else self.completion


@dataclass
class ModelUsage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unmetered: int = 0  # successful responses that reported no usage


class Meter:
    """The running totals of one run and its budget (`tokens`, `cost_usd`, `requests`)."""

    def __init__(self, prices: dict[str, dict[str, float]], budget: dict[str, float]) -> None:
        self.prices = prices
        self.budget = {k: v for k, v in budget.items() if v is not None}
        self.models: dict[str, ModelUsage] = {}
        self.refused = 0

    def exhausted(self) -> list[str]:
        """The budgets used up: a request now would be refused."""
        spent = {
            "tokens": sum(u.prompt_tokens + u.completion_tokens for u in self.models.values()),
            "cost_usd": self.cost() or 0.0,
            "requests": sum(u.requests for u in self.models.values()),
        }
        return [k for k in BUDGET_KEYS if k in self.budget and spent[k] >= self.budget[k]]

    def refusal(self) -> str | None:
        """Why a new request is refused (a budget is used up), or None."""
        used_up = self.exhausted()
        if not used_up:
            return None
        limits = ", ".join(f"{k} {self.budget[k]:g}" for k in used_up)
        return f"the run's model budget is exhausted ({limits}); no more model calls are allowed"

    def started(self, model: str) -> None:
        """A request is forwarded: it counts against the requests budget from now on."""
        self.models.setdefault(model, ModelUsage()).requests += 1

    def add(self, model: str, prompt: int | None, completion: int | None, ok: bool) -> None:
        usage = self.models.setdefault(model, ModelUsage())
        usage.prompt_tokens += prompt or 0
        usage.completion_tokens += completion or 0
        if ok and prompt is None and completion is None:
            usage.unmetered += 1

    def model_cost(self, model: str) -> float | None:
        usage, price = self.models[model], self.prices.get(model)
        if price is None or usage.unmetered:
            return None
        cost = usage.prompt_tokens * price["input"] + usage.completion_tokens * price["output"]
        return round(cost / 1e6, 6)

    def cost(self) -> float | None:
        costs = [self.model_cost(m) for m, u in self.models.items() if u.requests]
        return None if None in costs else round(sum(costs), 6)

    def record(self) -> dict[str, Any]:
        """The run record's `usage` field."""
        by_model = {
            model: {
                "requests": u.requests, "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens, "unmetered_responses": u.unmetered,
                "cost_usd": self.model_cost(model), "price_per_million": self.prices.get(model),
            }
            for model, u in sorted(self.models.items())
        }  # fmt: skip
        used_up = self.exhausted()
        return {
            "requests": sum(u.requests for u in self.models.values()),
            "refused": self.refused,
            "prompt_tokens": sum(u.prompt_tokens for u in self.models.values()),
            "completion_tokens": sum(u.completion_tokens for u in self.models.values()),
            "cost_usd": self.cost(),
            "by_model": by_model,
            "budget": self.budget,
            "budget_exhausted": bool(used_up),
            "budget_exhausted_by": used_up,
        }
