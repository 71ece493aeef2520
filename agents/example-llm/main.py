"""A template LLM agent: asks a model through the run's model gateway for a plan, keeps the
answer in $LOGS_DIR/plan.md and submits the sample submission. Replace the last step with real
work (code the model writes, run, checked with $VALIDATE).

The gateway gives every agent the same OpenAI-compatible setup: OPENAI_BASE_URL and
OPENAI_API_KEY (a per-run token, not a real key), and GATEWAY_MODELS, the models it may use.
Uses the `openai` package where the agent's Python environment has it, else the standard library.
"""

import json
import os
import shutil
import urllib.request
from pathlib import Path

settings = json.loads(os.environ.get("AGENT_SETTINGS") or "{}")
model = settings.get("model") or os.environ["GATEWAY_MODELS"].split(",")[0]
data = Path(os.environ["DATA_DIR"])
description = (data / "description.md").read_text()[:20000]
messages = [
    {"role": "system", "content": "You are an expert machine-learning engineer."},
    {"role": "user", "content": f"Outline a solution for this task:\n\n{description}"},
]


def ask(messages: list[dict]) -> str:
    try:
        from openai import OpenAI  # reads OPENAI_BASE_URL and OPENAI_API_KEY
    except ImportError:
        request = urllib.request.Request(
            os.environ["OPENAI_BASE_URL"] + "/chat/completions",
            data=json.dumps({"model": model, "messages": messages}).encode(),
            headers={
                "Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.load(response)["choices"][0]["message"]["content"]
    reply = OpenAI().chat.completions.create(model=model, messages=messages)
    return reply.choices[0].message.content


plan = ask(messages)
Path(os.environ["LOGS_DIR"], "plan.md").write_text(plan + "\n")
print(f"asked {model} for a plan ({len(plan)} characters)")

# The template's submission: the sample one (valid, never a medal).
sample = next(p for p in sorted(data.glob("*.csv")) if "sample" in p.name.lower())
shutil.copy(sample, Path(os.environ["SUBMISSION_DIR"]) / "submission.csv")
