"""What the hostile agents share: each attempt's outcome, "blocked: ..." or "ESCAPED: ...".

The agents run as scripts from this folder, so `from attempts import ...` finds this module."""

report: dict[str, str] = {}


def attempt(name, fn):
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 (every failure is the expected outcome)
        report[name] = f"blocked: {type(exc).__name__}: {exc}"[:300]
    else:
        report[name] = f"ESCAPED: {result}"[:300]
