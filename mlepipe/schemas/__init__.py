"""JSON schemas (written as YAML) of the configuration files, and the one way they are checked.

    experiment.yaml   the experiment (config/config.yaml and `--config` overrides)
    competition.yaml  competitions/<id>/competition.yaml
    reference_checksums.yaml  competitions/<id>/reference_checksums.yaml (MLE-bench's MD5s)
    agents.yaml       config/agents.yaml
    hardware.yaml     config/hardware.yaml
    prices.yaml       config/prices.yaml (model prices for the model gateway)

`validate` checks a file's content against its schema and fills in the schema's `default`
values, so that defaults live in the schemas only. Errors name the file and the key.

May import the standard library, jsonschema and yaml only: the registry, the hardware and agent
configuration and the workflow's rules all build on it.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS_DIR = Path(__file__).resolve().parent
MAX_ERRORS = 5  # errors listed in one message


class ConfigError(ValueError):
    """A configuration file that does not match its schema; the message names the file and key."""


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema `mlepipe/schemas/<name>.yaml`."""
    return yaml.safe_load((SCHEMAS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _with_defaults(validator_cls):
    """A jsonschema validator that also fills in `default` values (as Snakemake's validate does).
    Each default is a copy, so that no two files share (and could change) one default value."""
    validate_properties = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def invalid(where: str, problems: list[tuple[str, str]]) -> str:
    """The message for problems (key, what is wrong) found in `where`."""
    return f"{where} is invalid:\n" + "\n".join(f"  {key}: {what}" for key, what in problems)


def _problem(err: jsonschema.ValidationError) -> tuple[str, str]:
    """The key and message of an error, with the description of the schema it breaks. Where a
    value fits none of several alternatives (oneOf, anyOf), the error within the alternative of
    the value's type says more than "not valid under any of the given schemas"."""
    while err.context:
        telling = [e for e in err.context if e.validator != "type"]
        if not telling:
            break
        err = telling[0]
    key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    description = err.schema.get("description") if isinstance(err.schema, dict) else None
    return key, f"{err.message} ({description})" if description else err.message


def validate(
    schema: str | dict[str, Any], data: Any, where: str, error: type[ConfigError] = ConfigError
) -> None:
    """Checks `data` against a schema (a name under mlepipe/schemas, or the schema itself) and
    fills in its defaults; raises `error` naming `where` and each offending key."""
    if isinstance(schema, str):
        schema = load_schema(schema)
    errors = sorted(_Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise error(invalid(where, [_problem(err) for err in errors[:MAX_ERRORS]]))
