"""Checks every face applies at its edge, and validation errors in the project's own words.

The MCP tools (`engmetrics.server.app.EngmetricsMCP.call_tool`), the REST API (`engmetrics.api.app`) and
the request models (`engmetrics.queries.validate`) all go through here, so a bad argument gets the same
answer whichever way it arrives:

- an unknown argument is refused with the closest valid name ("unknown argument 'perid' — did you mean
  'period'?", `difflib`), never silently ignored;
- strings carry no control characters (NUL, escape, … — tab, newline and carriage return are allowed) and
  hold at most `MAX_STRING_CHARS` characters; lists hold at most `MAX_LIST_ITEMS` items;
- a pydantic `ValidationError` becomes one sentence per problem that names the argument, says what to send
  and echoes (shortened) what was sent — never pydantic's own wording ("Input should be…", "Value error,").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engmetrics.errors import InvalidInput

MAX_STRING_CHARS = 1_000
"""Longest string argument accepted (repository names and paths, periods, dates, cursors, ids)."""

MAX_LIST_ITEMS = 1_000
"""Longest list argument accepted (holidays, confidence levels)."""

MAX_BODY_BYTES = 64 * 1024
"""Largest REST request body accepted (413 beyond)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHOWN_CHARS = 40


def shown(value: Any) -> str:
    """``value`` as echoed in a message: short strings quoted, long ones cut, control characters escaped."""
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "…"
        return repr(text)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The valid name ``name`` most likely meant (difflib ratio ≥ 0.7), or None."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return matches[0] if matches else None


def unknown_name_message(name: str, accepted: Collection[str], *, noun: str = "argument") -> str:
    """"unknown argument 'perid' — did you mean 'period'? Accepted: …" (or "… takes no arguments")."""
    guess = closest(name, accepted)
    text = f"unknown {noun} {shown(name)}"
    text += f" — did you mean {guess!r}?" if guess else "."
    if accepted:
        text += f" Accepted: {', '.join(sorted(accepted))}."
    else:
        text += f" It takes no {noun}s."
    return text


def check_string(name: str, value: str) -> None:
    """`InvalidInput` when ``value`` is too long or holds a control character."""
    label = name if name.startswith(("a ", "an ")) else f"`{name}`"
    if len(value) > MAX_STRING_CHARS:
        raise InvalidInput(
            f"{label} is {len(value):,} characters long; at most {MAX_STRING_CHARS:,} are accepted. "
            "Send a shorter value (a repository name, a date, a period such as 'last_30_days').",
            param=name,
        )
    bad = _CONTROL.search(value)
    if bad is not None:
        raise InvalidInput(
            f"{label} contains a control character (U+{ord(bad.group()):04X} at position {bad.start()}); "
            "send plain text without control characters.",
            param=name,
        )


def check_value(name: str, value: Any) -> None:
    """Check a string, or every string inside a list or an object, under the name ``name``."""
    if isinstance(value, str):
        check_string(name, value)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise InvalidInput(f"`{name}` has {len(value):,} items; at most {MAX_LIST_ITEMS:,} are accepted.", param=name)
        for i, item in enumerate(value):
            check_value(f"{name}[{i}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_string(f"a key of {name}", str(key))
            check_value(f"{name}.{key}", item)


def check_arguments(values: Mapping[str, Any], accepted: Collection[str], *, noun: str = "argument") -> None:
    """Refuse unknown names (with the closest valid one) and bad strings in ``values``; `InvalidInput`."""
    for key in values:
        if key not in accepted:
            check_string(f"an {noun} name", str(key))
            raise InvalidInput(unknown_name_message(str(key), accepted, noun=noun), param=str(key))
    for key, value in values.items():
        check_value(str(key), value)


def path_exists(text: str | PathLike[str]) -> bool:
    """Whether a user-given path names an existing file or folder; False (not an error) for a name the
    operating system refuses — too long (ENAMETOOLONG), a NUL byte, no permission to look."""
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError, RuntimeError):
        return False


def path_is(text: str | PathLike[str], kind: str) -> bool:
    """Whether a user-given path is an existing folder (``kind="dir"``) or file (``"file"``); False when the
    operating system refuses the name."""
    try:
        p = Path(text).expanduser()
        return p.is_dir() if kind == "dir" else p.is_file()
    except (OSError, ValueError, RuntimeError):
        return False


# ---- pydantic errors in our words ------------------------------------------------------------------------

_EXPECTS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of reasonable size",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "string_unicode": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "date_type": "an ISO date such as '2025-02-01'",
    "date_parsing": "an ISO date such as '2025-02-01'",
    "date_from_datetime_parsing": "an ISO date such as '2025-02-01'",
    "date_from_datetime_inexact": "an ISO date such as '2025-02-01'",
    "datetime_type": "an ISO date or time in UTC such as '2025-02-01T12:00:00Z'",
    "datetime_parsing": "an ISO date or time in UTC such as '2025-02-01T12:00:00Z'",
    "datetime_from_date_parsing": "an ISO date or time in UTC such as '2025-02-01T12:00:00Z'",
    "none_required": "null",
}

_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _field(loc: tuple[Any, ...], names: Mapping[str, str] | None) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "constrained-")))]
    # Union members show up in the location ("int", "str", "list[str]"…): drop them.
    parts = [p for p in parts if p not in {"int", "str", "float", "bool", "none", "list[str]", "list[int]", "date",
                                           "datetime", "literal", "is-instance", "function-after"}]
    if parts and names:
        parts[0] = names.get(parts[0], parts[0])
    if parts and parts[0].endswith("_") and not parts[0].startswith("_"):
        parts[0] = parts[0].rstrip("_")  # from_ → from
    out = parts[0] if parts else "arguments"
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


def describe_error(err: Mapping[str, Any], names: Mapping[str, str] | None = None,
                   accepted: Collection[str] | None = None, *, echo: bool = True) -> tuple[str, str]:
    """(argument name, one sentence in our words) for one pydantic error dict; ``echo=False`` never repeats
    the value sent (settings may be secrets)."""
    kind = err.get("type", "")
    field = _field(tuple(err.get("loc") or ()), names)
    ctx = err.get("ctx") or {}
    has_input = "input" in err and echo
    got = f" (got {shown(err['input'])})" if has_input and kind != "missing" else ""
    name = f"`{field}`"
    if kind == "missing":
        return field, f"{name} is required"
    if kind == "extra_forbidden":
        return field, unknown_name_message(field, accepted or (), noun="argument").rstrip(".")
    if kind in _EXPECTS:
        return field, f"{name} must be {_EXPECTS[kind]}{got}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return field, f"{name} must be {words} {ctx.get(key)}{got}"
    if kind in ("literal_error", "enum"):
        return field, f"{name} must be one of {ctx.get('expected', 'the documented values')}{got}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return field, (f"{name} must not be empty" if n == 1 else f"{name} must have at least {n} characters") + got
    if kind == "string_too_long":
        return field, f"{name} must have at most {ctx.get('max_length')} characters{got}"
    if kind == "too_short":
        return field, f"{name} must have at least {ctx.get('min_length')} items{got}"
    if kind == "too_long":
        return field, f"{name} must have at most {ctx.get('max_length')} items{got}"
    if kind == "string_pattern_mismatch":
        return field, f"{name} is not in the expected form{got}"
    if kind in ("value_error", "assertion_error"):
        inner = ctx.get("error")
        text = str(inner) if inner is not None else str(err.get("msg", ""))
        text = re.sub(r"^(Value|Assertion) error,\s*", "", text)
        return field, text.rstrip(".")
    msg = str(err.get("msg", "is not valid"))
    msg = re.sub(r"^Input should be\b", "must be", msg)
    msg = re.sub(r"^(Value|Assertion) error,\s*", "", msg)
    return field, f"{name} {msg[0].lower() + msg[1:] if msg else 'is not valid'}{got}"


def describe_validation_error(exc: ValidationError, names: Mapping[str, str] | None = None,
                              accepted: Collection[str] | None = None, limit: int = 3) -> tuple[str | None, str]:
    """(first argument name, "Invalid arguments: …" sentence) for a pydantic `ValidationError`."""
    problems: list[str] = []
    first: str | None = None
    for err in exc.errors()[:limit]:
        field, text = describe_error(err, names, accepted)
        first = first or field
        problems.append(text)
    body = "; ".join(dict.fromkeys(problems)) or "the arguments are not valid"
    return first, (sentence(body) if body.startswith("unknown ") else body) + "."
