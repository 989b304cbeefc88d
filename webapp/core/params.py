"""Reading what a stranger puts in a URL or a request body: ids, choices and JSON, refused with a 400.

Every integer id in a path or query string goes through here, so one bound applies everywhere: ids are
64-bit columns, and a bigger number would otherwise reach the database and fail there (an overflow is a
500 on SQLite and PostgreSQL alike). `BadParameter` is answered with a 400 and its message by
`webapp.core.middleware.BadParameterMiddleware`, for the pages and the API alike.
"""

from __future__ import annotations

import json
import math

MAX_ID = 2**63 - 1  # the largest value of a BigAutoField / bigint column
MAX_ID_DIGITS = len(str(MAX_ID))
SHOWN_CHARS = 40  # how much of a bad value a message quotes


class BadParameter(ValueError):
    """A query parameter or request body that cannot be read; the message says which and why (a 400)."""


def quoted(value: str) -> str:
    """The value as a message shows it: repr, cut short, so that a 5,000-character value stays readable."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 4] + "...'"


def parse_whole(text: str, name: str, minimum: int, maximum: int) -> int:
    """A whole number in ASCII digits from minimum to maximum; anything else raises BadParameter naming it.

    The length is checked before int(): Python refuses to convert 4,300+ digits (a ValueError of its own)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)) or not minimum <= int(text) <= maximum:
        raise BadParameter(f"{name} must be a whole number from {minimum} to {maximum}, not {quoted(text)}")
    return int(text)


def parse_id(text: str, name: str) -> int:
    """An id: 1 to MAX_ID."""
    return parse_whole(text, name, 1, MAX_ID)


def id_param(params, name: str, *, empty_is_absent: bool = True) -> int | None:
    """The query parameter `name` as an id, None when absent (or empty, for a page's form that sends empty
    fields); BadParameter when not an id. The API passes empty_is_absent=False: its schema allows no empty value."""
    text = params.get(name)
    if text is None or (text == "" and empty_is_absent):
        return None
    return parse_id(text, name)


def number_param(params, name: str, *, empty_is_absent: bool = True) -> float | None:
    """The query parameter `name` as a finite number, None when absent (or empty, as for id_param)."""
    text = params.get(name)
    if text is None or (text == "" and empty_is_absent):
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadParameter(f"{name} must be a number, not {quoted(text)}")
    return value


def choice_param(params, name: str, choices, *, empty_is_absent: bool = True) -> str | None:
    """The query parameter `name` when it is one of `choices`, None when absent (or empty, as for id_param)."""
    text = params.get(name)
    if text is None or (text == "" and empty_is_absent):
        return None
    if text not in choices:
        raise BadParameter(f"{name} must be one of {', '.join(map(str, choices))}, not {quoted(text)}")
    return text


def parse_json_body(raw: bytes | str):
    """Decode a JSON request body; BadParameter for bad JSON, bad UTF-8 or nesting too deep to decode.

    json.loads recurses once per level, so a body nested 50,000 deep raises RecursionError, not ValueError."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadParameter("the request body is not valid JSON") from None
    except RecursionError:
        raise BadParameter("the request body is nested too deeply to be read as JSON") from None


def parse_json_object(raw: bytes | str) -> dict:
    """A JSON request body that must be an object (an empty body is `{}`); BadParameter otherwise."""
    body = parse_json_body(raw or b"{}")
    if not isinstance(body, dict):
        raise BadParameter("the request body must be a JSON object")
    return body
