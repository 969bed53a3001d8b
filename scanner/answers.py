"""From box readings to answers: one question at a time, never a guess.

Single choice: no box marked is a blank answer; one is the answer; two are `multiple`; a box
neither clearly empty nor clearly marked is `faint` (alone) or `erased?` (beside a mark); an
option struck out with a heavy scribble beside one clean mark (or none) is `changed`, and both
are kept for the person who decides.  Digit grids read one digit per column, checked by the
format the form definition gives them.
"""
from __future__ import annotations

from typing import Any

from forms import Question
from forms.persian import is_valid_mobile

from .marks import BoxState


def read_choice(groups, readings, kind: str,
                struck: frozenset[int] = frozenset()) -> tuple[Any, str | None, Any, Any]:
    """(answer, flag, candidate, struck-out value) for a single or multi choice question."""
    (group,) = groups
    crossed = [value for row, value in group if row in struck] if struck else []
    if crossed:
        group = [(row, value) for row, value in group if row not in struck]
    marked = [value for row, value in group if readings[row].state is BoxState.MARKED]
    unsure = [value for row, value in group if readings[row].state is BoxState.UNCERTAIN]
    if crossed and kind == "single":
        # one answer struck out with a heavy scribble: what the person meant is a person's call
        if len(crossed) == 1 and len(marked) <= 1 and not unsure:
            return None, "changed", (marked[0] if marked else None), crossed[0]
        return None, "multiple", marked + unsure + crossed, None
    if crossed:
        marked = marked + crossed
        return None, "changed", marked + unsure, crossed[0] if len(crossed) == 1 else crossed
    if unsure:
        candidate = marked + unsure if kind == "multi" else (marked or unsure)[0]
        return None, ("erased?" if marked else "faint"), candidate, None
    if kind == "multi":
        return marked, None, None, None
    if len(marked) > 1:
        return None, "multiple", marked, None
    return (marked[0] if marked else None), None, None, None


def read_digits(question: Question, groups, readings,
                struck: frozenset[int] = frozenset()) -> tuple[Any, str | None, Any, Any]:
    """(answer, flag, candidate, struck-out value) for a digit grid; digits the form says are a
    mobile number (``format: mobile``) that are not one are `invalid`, kept for a person."""
    digits: list[str | None] = []
    flag = None
    for column in groups:
        if struck and any(row in struck for row, _ in column):
            flag = flag or "changed"
            column = [(row, v) for row, v in column if row not in struck]
        marked = [v for row, v in column if readings[row].state is BoxState.MARKED]
        unsure = [v for row, v in column if readings[row].state is BoxState.UNCERTAIN]
        if unsure:
            flag = flag or ("erased?" if marked else "faint")
        if len(marked) > 1:
            flag = flag or "multiple"
        digits.append(marked[0] if len(marked) == 1 else None)
    candidate = "".join(d or "?" for d in digits)
    if flag:
        return None, flag, candidate, None
    if all(d is None for d in digits):
        return None, None, None, None
    if any(d is None for d in digits):
        return None, "partial", candidate, None
    value = "".join(digits)  # type: ignore[arg-type]
    if question.format == "mobile" and not is_valid_mobile(value):
        return None, "invalid", value, None
    return value, None, None, None
