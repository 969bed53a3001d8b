"""What the scanner read, said in the staff page's words: option labels, not raw values.

The review queue stores the machine's reading as the form's option values (``4``,
``[1, 4]``, ``"multiple"``-style lists, ``None`` for nothing marked).  A person deciding
should read «خوب و «خیلی خوب»», not ``[4, 5]``.
"""
from __future__ import annotations

from typing import Any

from forms.definition import Question
from forms.persian import to_persian_digits

from .i18n import translate

__all__ = ["value_words"]


def _one(question: Question | None, value: Any, lang: str) -> str:
    if question is not None:
        for option in question.options:
            if str(option.value) == str(value):
                return option.label.get(lang)
    text = str(value)
    return text if lang == "en" else to_persian_digits(text)


def value_words(question: Question | None, value: Any, lang: str, *, no_answer: str) -> str:
    """``value`` as a person reads it: option labels joined, digits in the page's script,
    ``no_answer`` for nothing marked."""
    if value is None or value == [] or value == "":
        return no_answer
    if isinstance(value, (list, tuple)):
        return translate("list_separator", lang).join(_one(question, v, lang) for v in value)
    return _one(question, value, lang)
