"""Office dashboard figures: how many visitors answered, and what they said, kiosk vs paper.

Pure functions over ledger records, so the numbers can be checked in a test without a web
page.  Days and months are Tehran wall-clock days and *Jalali* months, because that is how
the office reports (a response at 23:30 UTC belongs to the next Tehran day).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime

from forms import Form
from sync.ledger import Record

__all__ = ["SOURCES", "QuestionFigures", "Summary", "corrections_from", "summarize"]

SOURCES = ("kiosk", "paper")
_TEHRAN = ZoneInfo("Asia/Tehran")


@dataclass
class QuestionFigures:
    """Average of a 1-5 scale question per source (None when nobody answered)."""

    question_id: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))

    def average(self, source: str | None = None) -> float | None:
        if source is None:
            count, total = sum(self.counts.values()), sum(self.sums.values())
        else:
            count, total = self.counts[source], self.sums[source]
        return round(total / count, 2) if count else None


@dataclass
class Summary:
    today: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    month: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    scales: dict[str, QuestionFigures] = field(default_factory=dict)
    #: Question (2), "did it match what was announced": value -> count.
    matched: dict[str, int] = field(default_factory=dict)


def source_of(record: Record) -> str:
    """Anything not from the kiosk came from a paper sheet (the scanner's records)."""
    return "kiosk" if record.body.get("source") == "kiosk" else "paper"


def corrections_from(decisions: Iterable[Record]) -> dict[str, dict[str, Any]]:
    """Review decisions (the scanner's ``review_decision`` records) by response and question.

    A paper answer the machine was unsure of counts with the value a person decided, the
    latest decision winning, as in ``scanner.review.effective_answers``.
    """
    found: dict[str, dict[str, Any]] = {}
    for record in decisions:
        body = record.body
        if "response" in body and "question" in body:
            found.setdefault(body["response"], {})[body["question"]] = body.get("value")
    return found


def summarize(records: Iterable[Record], form: Form, now: datetime,
              corrections: Mapping[str, Mapping[str, Any]] | None = None) -> Summary:
    """Figures for survey responses of ``form`` (any version) as of ``now`` (aware).

    Paper responses the scanner rejected are not counted; ``corrections`` (see
    :func:`corrections_from`) replace machine readings a person reviewed.
    """
    corrections = corrections or {}
    local_now = now.astimezone(_TEHRAN)
    today = local_now.date()
    j_now = jdatetime.date.fromgregorian(date=today)
    scale_ids = [q.id for q in form.questions if q.scale]
    summary = Summary(scales={qid: QuestionFigures(qid) for qid in scale_ids})
    matched_question = "matched_announcement"
    for record in records:
        if record.body.get("form") != form.id:
            continue
        source = source_of(record)
        if source == "paper" and record.body.get("status") == "rejected":
            continue
        local = record.created_at.astimezone(_TEHRAN).date()
        summary.total[source] += 1
        if local == today:
            summary.today[source] += 1
        j = jdatetime.date.fromgregorian(date=local)
        if (j.year, j.month) == (j_now.year, j_now.month):
            summary.month[source] += 1
        answers = {**(record.body.get("answers") or {}), **corrections.get(record.uuid, {})}
        for qid in scale_ids:
            value = answers.get(qid)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                continue
            summary.scales[qid].counts[source] += 1
            summary.scales[qid].sums[source] += value
        value = answers.get(matched_question)
        if isinstance(value, str):
            summary.matched[value] = summary.matched.get(value, 0) + 1
    return summary
