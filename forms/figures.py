"""Summing responses into the figures both the office dashboard and the centre show.

A :class:`Tally` adds up :class:`~forms.responses.ResponseFacts` (the office does it over its
ledger) or the same counts read back from the centre's roll-ups, and turns them into the one
JSON shape of ``seda central figures``::

    {"responses": {"total", "paper", "kiosk", "portal", "sheet_link", "complete", "incomplete"},
     "questions": {question_id: {"answered", "pending_review", "counts": {option_value: n},
                                 "mean"}}}

``answered`` counts every accepted answer and every answer a person settled in review;
``pending_review`` the answers still waiting for one (they are in no other count); ``counts``
is per option (questions without options, such as the mobile number or the comment, have
none); ``mean`` is given for the 1-5 questions only.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .definition import Question
from .responses import SOURCES, ResponseFacts

__all__ = ["QuestionCount", "Tally"]


@dataclass
class QuestionCount:
    answered: int = 0
    pending: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Tally:
    """Counts of responses and answers; add (or, with ``times=-1``, take away) facts."""

    sources: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    incomplete: int = 0
    questions: dict[str, QuestionCount] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.sources.values())

    def question(self, question_id: str) -> QuestionCount:
        found = self.questions.get(question_id)
        if found is None:
            found = self.questions[question_id] = QuestionCount()
        return found

    def add(self, facts: ResponseFacts | None, times: int = 1) -> None:
        if facts is None:
            return
        self.sources[facts.source] = self.sources.get(facts.source, 0) + times
        if not facts.complete:
            self.incomplete += times
        for qid in facts.answered:
            self.question(qid).answered += times
        for qid in facts.pending:
            self.question(qid).pending += times
        for qid, value in facts.values:
            self.add_value(qid, value, times)

    def add_value(self, question_id: str, value: str, n: int) -> None:
        counts = self.question(question_id).counts
        counts[value] = counts.get(value, 0) + n

    def to_json(self, questions: Sequence[Question] = ()) -> dict[str, Any]:
        """The figures as JSON: every question of ``questions`` (zeros included, options in
        the form's order), then any other question that was counted."""
        out: dict[str, Any] = {}
        known = {q.id: q for q in questions}
        for qid in [*known, *sorted(q for q in self.questions if q not in known)]:
            count = self.questions.get(qid, QuestionCount())
            question = known.get(qid)
            options = [str(v) for v in question.option_values()] if question is not None else []
            counts = {value: count.counts.get(value, 0) for value in options}
            counts.update({v: n for v, n in sorted(count.counts.items()) if v not in counts and n})
            out[qid] = {"answered": count.answered, "pending_review": count.pending,
                        "counts": counts, "mean": _mean(counts) if question is not None and question.scale else None}
        complete = self.total - self.incomplete
        return {"responses": {"total": self.total, "paper": self.sources.get("paper", 0),
                              "kiosk": self.sources.get("kiosk", 0),
                              "portal": self.sources.get("portal", 0),
                              "sheet_link": self.sources.get("sheet_link", 0), "complete": complete,
                              "incomplete": self.incomplete},
                "questions": out}

    @classmethod
    def of(cls, facts: Iterable[ResponseFacts | None]) -> Tally:
        tally = cls()
        for item in facts:
            tally.add(item)
        return tally


def _mean(counts: dict[str, int]) -> float | None:
    """Mean of a 1-5 question from its per-option counts (4 decimals, the same on every side)."""
    n = total = 0
    for value, count in counts.items():
        if value in ("1", "2", "3", "4", "5"):
            n += count
            total += int(value) * count
    return round(total / n, 4) if n else None
