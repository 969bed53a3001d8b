"""The survey-response record: one format for the kiosk and the paper sheet, and what it says.

A visitor's answers travel from the office to the centre as a ``survey_response`` record; the
answers a person settled in the paper review queue travel beside it as ``review_decision``
records (the ledger is append-only, so a correction is a new record, never an edit).  Both the
office and the centre must read them the same way, or their figures drift apart, so the rules
live here, once:

- :data:`SURVEY_RESPONSE`, :data:`REVIEW_ITEM` and :data:`REVIEW_DECISION` declare each record
  shape (field, type, which source carries it, what it means), one declaration per shape;
- :func:`kiosk_response`, :func:`paper_response`, :func:`review_item` and
  :func:`review_decision` build bodies that satisfy them (pure, keyword arguments);
- :func:`effective_answers` is the machine's answers with every person's decision applied:
  the latest decision per item wins (a decision changed with ``--again`` names the one it
  replaces), and a flagged answer nobody has settled yet is *pending*, not an answer;
- :func:`response_facts` is what one response adds to the figures (:mod:`forms.figures` sums
  them), so the office dashboard and the centre count exactly the same answers.

Records written before a field existed still read: a kiosk response without ``complete`` is
complete, a paper response without ``flags`` has nothing pending.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime

from .definition import Form

__all__ = [
    "PAPER_STATUSES", "RATING_QUESTIONS", "REVIEW_DECISION", "REVIEW_ITEM", "SOURCES",
    "SURVEY_RESPONSE", "Answers", "Decision", "Field", "RecordShape", "RecordShapeError",
    "ResponseFacts", "effective_answers", "form_for", "jalali_month_of", "kiosk_response", "latest_decisions",
    "local_day", "paper_response", "portal_response", "response_facts", "review_decision", "review_item",
    "sheet_link_response",
]

#: ``portal``: answered on the central office's portal from a kiosk receipt's one-time link;
#: ``sheet_link``: answered there from a paper sheet's link (its second QR code), so the body
#: names the sheet like a scanned one and the centre counts the sheet once (forms/survey_tokens.py).
SOURCES = ("kiosk", "paper", "portal", "sheet_link")
#: What the scanner stores: every question read with a margin, or some sent to a person.
#: (Rejected and blank sheets are never stored; a "rejected" record of an older version is
#: not counted.)
PAPER_STATUSES = ("accepted", "review")
#: The three 1-5 questions behind the means and intervals: (1) workflow, (3) staff behaviour,
#: and overall satisfaction.
RATING_QUESTIONS = ("workflow", "staff_behaviour", "overall")
#: Question (2) of Article 9 and the contact-consent questions, by id.
MATCHED_QUESTION = "matched_announcement"
CONSENT_QUESTION = "follow_up_consent"
MOBILE_QUESTION = "mobile"
_TEHRAN = ZoneInfo("Asia/Tehran")


class RecordShapeError(ValueError):
    """A body that does not have its record's shape; the message names every problem."""


# -- the shapes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a record body: its name, the JSON types it may hold, whether it must be
    there, which sources carry it (empty: every source) and what it means."""

    name: str
    types: tuple[type, ...]
    required: bool
    meaning: str
    sources: tuple[str, ...] = ()
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RecordShape:
    """The declaration of one record kind's body (like a table's column list)."""

    kind: str
    fields: tuple[Field, ...]
    #: The field that says which ``sources`` a body is (None: one shape for all).
    discriminator: str | None = None

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def problems(self, body: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``body`` (empty: it has this shape)."""
        if not isinstance(body, Mapping):
            return [f"a {self.kind} body must be a JSON object"]
        source = body.get(self.discriminator) if self.discriminator else None
        found = []
        known = {f.name for f in self.fields}
        for spec in self.fields:
            applies = not spec.sources or source in spec.sources
            if spec.name not in body:
                if spec.required and applies:
                    found.append(f"{spec.name} is missing")
                continue
            if not applies:
                found.append(f"{spec.name} is not a field of a {source} {self.kind}")
                continue
            value = body[spec.name]
            if value is None and not spec.required:
                continue
            if isinstance(value, bool) and bool not in spec.types:
                found.append(f"{spec.name} must be {_type_names(spec.types)}, not a boolean")
            elif not isinstance(value, spec.types):
                found.append(f"{spec.name} must be {_type_names(spec.types)}, not {type(value).__name__}")
            elif spec.choices and value not in spec.choices:
                found.append(f"{spec.name} must be one of {', '.join(map(str, spec.choices))}, not {value!r}")
        found += [f"{name} is not a field of a {self.kind}" for name in body if name not in known]
        return found

    def check(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` as a plain dict if it has this shape, else :class:`RecordShapeError`."""
        found = self.problems(body)
        if found:
            raise RecordShapeError(f"not a valid {self.kind}: " + "; ".join(found))
        return dict(body)


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", bool: "true or false", dict: "an object",
             list: "a list", float: "a number"}
    return " or ".join(names.get(t, t.__name__) for t in types)


SURVEY_RESPONSE = RecordShape("survey_response", discriminator="source", fields=(
    Field("source", (str,), True, "where the visitor answered", choices=SOURCES),
    Field("form", (str,), True, "form id, e.g. satisfaction"),
    Field("form_version", (int,), True, "the version the visitor saw or the sheet was printed from"),
    Field("answers", (dict,), True,
          "question id -> option value, [values] (multi), digits or text; null: no answer. On"
          " paper a flagged question's answer is null until a review_decision settles it"),
    # the kiosk
    Field("complete", (bool,), False,
          "the visitor finished the survey (false: the visit ended first; absent: true)",
          sources=("kiosk", "portal", "sheet_link")),
    Field("kiosk_id", (str,), False, "which kiosk", sources=("kiosk",)),
    Field("visit", (str,), False, "random, unlinkable id of the visit", sources=("kiosk",)),
    # the paper sheet (the scanner)
    Field("sheet", (str,), True, "sheet id office/form/serial (a sheet link: the sheet its token names)",
          sources=("paper", "sheet_link")),
    Field("serial", (int,), True, "the sheet's serial", sources=("paper", "sheet_link")),
    Field("status", (str,), True, "accepted, or review: some questions wait for a person",
          sources=("paper",), choices=(*PAPER_STATUSES, "rejected")),
    Field("reason", (str,), False, "why the page went to review (e.g. registration)", sources=("paper",)),
    Field("flags", (dict,), False, "question id -> why the scanner was not sure (pending until settled)",
          sources=("paper",)),
    Field("candidates", (dict,), False, "question id -> the machine's reading of a flagged answer",
          sources=("paper",)),
    Field("writing", (dict,), False, "text question id -> whether its box holds handwriting",
          sources=("paper",)),
    Field("attachments", (dict,), False, "question id -> SHA-256 of its crop (comment, evidence)",
          sources=("paper",)),
    Field("sheet_image", (str,), False, "SHA-256 of the whole sheet's image (review)", sources=("paper",)),
    Field("crossed_out", (dict,), False,
          "question id -> the option struck out where the visitor changed their answer",
          sources=("paper",)),
    Field("scan", (dict,), False,
          "{file, page} the sheet was read from, with sheet_index when the image held several"
          " sheets and warnings about the scan (e.g. bilevel_scan)", sources=("paper",)),
    Field("registration", (dict,), False, "how the page was placed (markers or structure) and how well",
          sources=("paper",)),
    Field("replaces", (str,), False, "uuid of the response a rescan of the same sheet replaces",
          sources=("paper",)),
))

REVIEW_ITEM = RecordShape("review_item", fields=(
    Field("response", (str,), True, "uuid of the survey_response"),
    Field("sheet_id", (str,), True, "the sheet"),
    Field("question", (str,), True, "the flagged question"),
    Field("reason", (str,), True, "why the scanner was not sure"),
    Field("machine_value", (str, int, list), False, "the scanner's reading, for the person to confirm or correct"),
    Field("crop", (str,), False, "SHA-256 of the evidence crop"),
    Field("sheet_image", (str,), False, "SHA-256 of the whole sheet's image"),
    Field("crossed_out", (str, int, list), False, "for a changed answer: the option struck out"),
))

REVIEW_DECISION = RecordShape("review_decision", fields=(
    Field("item", (str,), True, "uuid of the review_item decided"),
    Field("response", (str,), True, "uuid of the survey_response it settles"),
    Field("sheet_id", (str,), True, "the sheet"),
    Field("question", (str,), True, "the question it settles"),
    Field("value", (str, int, list), False, "the answer a person read on the sheet (null: no answer)"),
    Field("machine_value", (str, int, list), False, "what the scanner had read"),
    Field("reason", (str,), True, "why the scanner was not sure"),
    Field("by", (str,), True, "who decided"),
    Field("replaces", (str,), False, "uuid of the earlier decision this one changes (--again)"),
))


# -- builders ------------------------------------------------------------------------------------


def kiosk_response(*, form: str, form_version: int, answers: Mapping[str, Any], kiosk_id: str,
                   visit: str, complete: bool) -> dict[str, Any]:
    """The body of a survey answered on the kiosk; ``complete`` is False when the visit ended
    before the visitor finished (their answers still count)."""
    return SURVEY_RESPONSE.check({"source": "kiosk", "form": form, "form_version": form_version,
                                  "answers": dict(answers), "complete": bool(complete),
                                  "kiosk_id": kiosk_id, "visit": visit})


def portal_response(*, form: str, form_version: int, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a survey answered on the portal from a one-time link (always sent whole)."""
    return SURVEY_RESPONSE.check({"source": "portal", "form": form, "form_version": form_version,
                                  "answers": dict(answers), "complete": True})


def sheet_link_response(*, form: str, form_version: int, sheet: str, serial: int,
                        answers: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a survey answered on the portal from a paper sheet's link: the sheet's
    form and version, and the sheet, so the centre counts one response per sheet."""
    return SURVEY_RESPONSE.check({"source": "sheet_link", "form": form, "form_version": form_version,
                                  "sheet": sheet, "serial": serial, "answers": dict(answers),
                                  "complete": True})


def paper_response(*, form: str, form_version: int, sheet: str, serial: int, status: str,
                   answers: Mapping[str, Any], flags: Mapping[str, str] | None = None,
                   candidates: Mapping[str, Any] | None = None,
                   writing: Mapping[str, bool] | None = None, reason: str | None = None,
                   attachments: Mapping[str, str] | None = None, sheet_image: str | None = None,
                   scan: Mapping[str, Any] | None = None,
                   crossed_out: Mapping[str, Any] | None = None,
                   registration: Mapping[str, Any] | None = None,
                   replaces: str | None = None) -> dict[str, Any]:
    """The body of a scanned sheet: what the scanner read, and which answers wait for a person."""
    if status not in PAPER_STATUSES:
        raise RecordShapeError(f"a stored sheet is accepted or review, not {status!r}")
    flags = dict(flags or {})
    if (status == "review") != bool(flags):
        raise RecordShapeError("a sheet is in review exactly when some question is flagged")
    body: dict[str, Any] = {
        "source": "paper", "form": form, "form_version": form_version, "sheet": sheet,
        "serial": serial, "status": status, "reason": reason, "answers": dict(answers),
        "flags": flags, "candidates": dict(candidates or {}), "writing": dict(writing or {}),
        "attachments": dict(attachments or {}), "sheet_image": sheet_image,
        "scan": dict(scan) if scan is not None else None,
    }
    if crossed_out:
        body["crossed_out"] = dict(crossed_out)
    if registration is not None:
        body["registration"] = dict(registration)
    if replaces:
        body["replaces"] = replaces
    return SURVEY_RESPONSE.check(body)


def review_item(*, response: str, sheet_id: str, question: str, reason: str,
                machine_value: Any = None, crop: str | None = None,
                sheet_image: str | None = None, crossed_out: Any = None) -> dict[str, Any]:
    """The body of one flagged answer waiting for a person."""
    body = {"response": response, "sheet_id": sheet_id, "question": question, "reason": reason,
            "machine_value": machine_value, "crop": crop, "sheet_image": sheet_image}
    if crossed_out is not None:
        body["crossed_out"] = crossed_out
    return REVIEW_ITEM.check(body)


def review_decision(*, item: str, response: str, sheet_id: str, question: str, value: Any,
                    machine_value: Any, reason: str, by: str,
                    replaces: str | None = None) -> dict[str, Any]:
    """The body of a person's decision on one item; ``replaces`` names the decision it changes."""
    return REVIEW_DECISION.check({"item": item, "response": response, "sheet_id": sheet_id,
                                  "question": question, "value": value,
                                  "machine_value": machine_value, "reason": reason, "by": by,
                                  "replaces": replaces})


# -- effective answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A review decision as :func:`effective_answers` needs it: the record's uuid and time
    (the envelope) and the body's item, question, value and the decision it replaces."""

    uuid: str
    at: str
    item: str
    response: str
    question: str
    value: Any
    replaces: str | None = None

    @classmethod
    def from_record(cls, uuid: str, created_at: str | datetime, body: Mapping[str, Any]) -> Decision:
        if isinstance(created_at, datetime):
            created_at = created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return cls(uuid=str(uuid), at=str(created_at), item=str(body.get("item") or ""),
                   response=str(body.get("response") or ""), question=str(body.get("question") or ""),
                   value=body.get("value"), replaces=body.get("replaces") or None)


def latest_decisions(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """Question id -> the decision that stands: per item the latest (one that a later decision
    names in ``replaces`` is never it, whatever the clocks say; else the latest time, then the
    uuid, so every reader picks the same one whatever order the decisions arrived in)."""
    unique = {d.uuid: d for d in decisions}
    if not unique:
        return {}
    replaced = {d.replaces for d in unique.values() if d.replaces}
    by_item: dict[str, Decision] = {}
    for decision in unique.values():
        if decision.uuid in replaced:
            continue
        current = by_item.get(decision.item)
        if current is None or (decision.at, decision.uuid) > (current.at, current.uuid):
            by_item[decision.item] = decision
    by_question: dict[str, Decision] = {}
    for decision in sorted(by_item.values(), key=lambda d: (d.at, d.uuid)):
        by_question[decision.question] = decision
    return by_question


class Answers(dict):
    """A response's effective answers (question id -> value) and the questions still
    ``pending`` a person's decision (their value is None here)."""

    pending: frozenset[str]

    def __init__(self, answers: Mapping[str, Any], pending: Iterable[str] = ()) -> None:
        super().__init__(answers)
        self.pending = frozenset(pending)


def effective_answers(response: Mapping[str, Any], decisions: Iterable[Decision] = ()) -> Answers:
    """The machine's answers with every person's decision applied.

    ``response`` is a survey_response body; ``decisions`` are the review decisions naming it
    (any order, repeats allowed).  A question the scanner flagged is pending until a decision
    settles it; a decision always wins over the machine.
    """
    answers = dict(response.get("answers") or {})
    flags = response.get("flags")
    if not flags and not decisions:
        return Answers(answers)
    settled = latest_decisions(decisions)
    pending = set()
    for question in flags or {}:
        if question not in settled:
            answers[question] = None
            pending.add(question)
    for question, decision in settled.items():
        answers[question] = decision.value
    return Answers(answers, pending)


# -- what one response adds to the figures -------------------------------------------------------


@dataclass(frozen=True)
class ResponseFacts:
    """What one counted response contributes: its groups (service, desk), its source and
    completeness, and per question whether it was answered, is pending, which option values
    it chose (only for questions with options: never a mobile number or a comment) and its
    1-5 rating."""

    source: str
    complete: bool
    service: str | None
    desk: str | None
    answered: frozenset[str]
    pending: frozenset[str]
    values: tuple[tuple[str, str], ...]        # (question, option value as text), one per choice
    ratings: tuple[tuple[str, int], ...]       # (rating question, 1..5)
    matched: str | None                        # question (2): yes / partly / no
    call_back: bool                            # consented to be called and left a mobile number

    def rating(self, question: str) -> int | None:
        return dict(self.ratings).get(question)


def _rating(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= 5 else None


_QUESTIONS: dict[int, tuple[Form, tuple[tuple[str, frozenset[str] | None], ...]]] = {}


def _questions_of(form: Form) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """(question id, the option values it offers as text, or None for digits and text), once
    per form object: a fold reads millions of responses of the same few forms (and hashing a
    whole form each time would cost more than reading the response)."""
    found = _QUESTIONS.get(id(form))
    if found is None or found[0] is not form:
        if len(_QUESTIONS) > 256:
            _QUESTIONS.clear()
        found = _QUESTIONS[id(form)] = (form, tuple(
            (q.id, frozenset(str(v) for v in q.option_values()) if q.options else None) for q in form.questions))
    return found[1]


def _option_texts(offered: frozenset[str] | None, value: Any) -> list[str]:
    """The option values chosen, as text; nothing for a question without options (digits,
    text) or a value the form does not offer (never counted under a made-up option)."""
    if not offered:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if not isinstance(v, (bool, dict, list)) and str(v) in offered]
    if isinstance(value, (bool, dict)):
        return []
    text = str(value)
    return [text] if text in offered else []


def response_facts(response: Mapping[str, Any], decisions: Iterable[Decision] = (),
                   form: Form | None = None) -> ResponseFacts | None:
    """What ``response`` (a survey_response body) adds to the figures, with ``decisions``
    applied; None when it is not counted at all: a page the scanner refused, or a response
    with no answer, nothing pending and no handwriting (a blank sheet or an empty visit).

    ``form`` is the definition the response was given on (its options decide which values are
    counted per option); without it only answered/pending are counted.
    """
    source = response.get("source") if response.get("source") in ("kiosk", "portal", "sheet_link") else "paper"
    if source == "paper" and response.get("status") == "rejected":
        return None
    answers = effective_answers(response, decisions)
    pending_now = answers.pending
    writing = response.get("writing") or {}
    questions = _questions_of(form) if form is not None else tuple((q, None) for q in answers)
    answered, values, ratings = set(), [], []
    for qid, offered in questions:
        value = answers.get(qid)
        if value is None or value == "" or value == []:
            if writing.get(qid) is True and qid not in pending_now:
                answered.add(qid)
            continue
        answered.add(qid)
        if offered:
            values += [(qid, text) for text in _option_texts(offered, value)]
        if qid in RATING_QUESTIONS:
            rating = _rating(value)
            if rating is not None:
                ratings.append((qid, rating))
    pending = pending_now if form is None else frozenset(q for q in pending_now if q in dict(questions))
    if not answered and not pending:
        return None
    service = answers.get("service") if "service" in answered and isinstance(answers.get("service"), str) else None
    desk = answers.get("desk") if "desk" in answered and isinstance(answers.get("desk"), str) else None
    matched = answers.get(MATCHED_QUESTION) if MATCHED_QUESTION in answered else None
    mobile = answers.get(MOBILE_QUESTION)
    call_back = (answers.get(CONSENT_QUESTION) == "yes" and isinstance(mobile, str) and bool(mobile))
    return ResponseFacts(
        source=source, complete=source == "paper" or response.get("complete") is not False,
        service=service, desk=desk, answered=frozenset(answered), pending=pending,
        values=tuple(values), ratings=tuple(ratings),
        matched=matched if matched in ("yes", "partly", "no") else None, call_back=call_back)


# -- days and months (Tehran) --------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _day_of(half_hour: str) -> date:
    moment = datetime.fromisoformat(half_hour[:13] + (":30" if half_hour[13] == "b" else ":00") + ":00+00:00")
    return moment.astimezone(_TEHRAN).date()


def local_day(created_at: str | datetime) -> date:
    """The Tehran calendar day of a record's UTC time (a response at 23:30 UTC belongs to the
    next day in Tehran).  Iran's offsets (+3:30, +4:30 in summer until 1401) put every local
    midnight at a half hour UTC, so for a stored time ("2026-12-01T08:00:00.000000Z") the day
    is the same for a whole half hour and is worked out once per half hour: a fold reads
    millions of them."""
    if isinstance(created_at, str):
        if len(created_at) >= 16 and created_at[10] == "T" and created_at.endswith("Z"):
            return _day_of(created_at[:13] + ("b" if created_at[14:16] >= "30" else "a"))
        created_at = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return created_at.astimezone(_TEHRAN).date()


@lru_cache(maxsize=4096)
def jalali_month_of(day: date) -> str:
    """The Jalali month ("1405-09") of a Tehran calendar day."""
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year:04d}-{j.month:02d}"


def form_for(catalog: Any, form_id: Any, version: Any) -> Form | None:
    """The definition a response was given on, else the newest version of its form, else None."""
    try:
        return catalog.get(str(form_id), int(version))
    except (LookupError, TypeError, ValueError):
        pass
    try:
        return catalog.get(str(form_id))
    except (LookupError, TypeError, ValueError):
        return None
