"""JSON from strangers: parsed only when it is shallow, so a crafted body is a clear refusal.

Python's ``json`` parser recurses once per ``[`` or ``{``: a body of a few kilobytes of
brackets raises ``RecursionError`` (an HTTP 500 if nobody catches it) after burning the stack.
:func:`loads_limited` counts the nesting first, on the raw bytes with strings blanked out (one
regular-expression pass, no recursion), and refuses anything deeper than the caller allows.
"""
from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["JsonRefused", "loads_limited", "nesting_depth"]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class JsonRefused(ValueError):
    """The body is not JSON we accept; the message says why (for a 400 answer)."""


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in ``data`` (strings do not count)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_limited(data: bytes | str, *, max_depth: int = 8) -> Any:
    """``json.loads(data)``, or :class:`JsonRefused` if it is not JSON or nests deeper than
    ``max_depth``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if nesting_depth(raw) > max_depth:
        raise JsonRefused(f"JSON nested more than {max_depth} levels deep")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise JsonRefused(f"not valid JSON ({exc.__class__.__name__})") from None
