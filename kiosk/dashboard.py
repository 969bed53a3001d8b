"""Office dashboard figures: how many visitors answered, and what they said, kiosk vs paper.

Pure functions over ledger records, so the numbers can be checked in a test without a web
page.  Every response is read through :mod:`forms.responses` (the people's review decisions
applied, a rescanned sheet counted once, blank sheets and empty visits not at all) and summed
with :class:`forms.figures.Tally`, exactly as the central office does: the month's figures
here equal ``seda central figures --month M --office CODE`` for the same records.

Days and months are Tehran wall-clock days and *Jalali* months, because that is how the office
reports (a response at 23:30 UTC belongs to the next Tehran day).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from forms import Form, FormCatalog, builtin_catalog
from forms.figures import Tally
from forms.responses import (RATING_QUESTIONS, Decision, ResponseFacts, form_for, jalali_month_of,
                             local_day, response_facts)
from ledger.ledger import Record

__all__ = ["SOURCES", "QuestionFigures", "Summary", "counted_responses", "month_figures",
           "summarize"]

SOURCES = ("kiosk", "paper")


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
    #: This month's figures in the shape of ``seda central figures`` (see forms.figures).
    figures: dict[str, Any] = field(default_factory=dict)


def counted_responses(responses: Iterable[Record], decisions: Iterable[Record],
                      catalog: FormCatalog | None = None) -> Iterator[tuple[Record, ResponseFacts]]:
    """Each response that counts, with what it adds: decisions applied, a response that a
    rescan of its sheet replaced left out, blank ones and refused pages left out."""
    catalog = catalog or builtin_catalog()
    by_response: dict[str, list[Decision]] = {}
    for record in decisions:
        decision = Decision.from_record(record.uuid, record.created_at, record.body)
        by_response.setdefault(decision.response, []).append(decision)
    responses = list(responses)
    replaced = {r.body.get("replaces") for r in responses if r.body.get("replaces")}
    for record in responses:
        if record.uuid in replaced:
            continue
        body = record.body
        facts = response_facts(body, by_response.get(record.uuid, ()),
                               form_for(catalog, body.get("form"), body.get("form_version")))
        if facts is not None:
            yield record, facts


def _month_of(record: Record) -> str:
    return jalali_month_of(local_day(record.created_at))


def month_figures(counted: Iterable[tuple[Record, ResponseFacts]], month: str, form: Form,
                  office: str | None = None) -> dict[str, Any]:
    """``{"month", "responses", "questions"}`` for one Jalali month ("1405-09")."""
    tally = Tally()
    for record, facts in counted:
        if _month_of(record) == month and (office is None or record.office == office):
            tally.add(facts)
    return {"month": month, **tally.to_json(form.questions)}


def summarize(responses: Iterable[Record], decisions: Iterable[Record], form: Form,
              now: datetime, catalog: FormCatalog | None = None) -> Summary:
    """Figures for the office's survey responses as of ``now`` (aware): counts today, this
    Jalali month and in all, averages per source, and this month's figures."""
    today = local_day(now)
    month = jalali_month_of(today)
    counted = [(r, f) for r, f in counted_responses(responses, decisions, catalog)
               if r.body.get("form") == form.id]
    summary = Summary(scales={q.id: QuestionFigures(q.id) for q in form.questions if q.scale})
    for record, facts in counted:
        source = facts.source
        day = local_day(record.created_at)
        summary.total[source] += 1
        if day == today:
            summary.today[source] += 1
        if jalali_month_of(day) == month:
            summary.month[source] += 1
        if facts.matched:
            summary.matched[facts.matched] = summary.matched.get(facts.matched, 0) + 1
        for qid, value in facts.ratings:
            if qid in summary.scales:
                summary.scales[qid].counts[source] += 1
                summary.scales[qid].sums[source] += value
        for qid, text in facts.values:  # scale questions that are not among the three ratings
            if qid in summary.scales and qid not in RATING_QUESTIONS and text.isdigit():
                summary.scales[qid].counts[source] += 1
                summary.scales[qid].sums[source] += int(text)
    summary.figures = month_figures(counted, month, form)
    return summary
