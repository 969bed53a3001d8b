"""The paper review queue: answers the scanner was not sure of, settled by a person.

The machine's reading and the human decision are separate ledger records (`review_item` and
`review_decision`, shaped by `forms.responses`), so both stay visible and audited; where they
differ, the human one wins in `forms.responses.effective_answers`, which the office dashboard
and the central figures apply the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forms.messages import MessageError
from forms.persian import normalize_input
from forms.responses import Answers, Decision, review_decision
from forms.responses import effective_answers as _effective
from ledger.ledger import Ledger, Record
from ledger.published_content import office_forms

BLANK_WORDS = {"-", "blank", "none", "null", "خالی", "بدون پاسخ"}


class ReviewError(MessageError, ValueError):
    """A review command that cannot be carried out (forms/translations ``review_*``)."""


@dataclass(frozen=True)
class ReviewItem:
    id: str
    response_uuid: str
    sheet: str
    question: str
    reason: str
    machine_value: Any
    crop_sha256: str | None
    sheet_image_sha256: str | None
    created_at: datetime
    crossed_out: Any = None          # for a changed answer: the option struck out

    @property
    def short_id(self) -> str:
        return self.id[:8]


def _item(record: Record) -> ReviewItem:
    body = record.body
    return ReviewItem(id=record.uuid, response_uuid=body["response"], sheet=body["sheet_id"],
                      question=body["question"], reason=body["reason"],
                      machine_value=body.get("machine_value"), crop_sha256=body.get("crop"),
                      sheet_image_sha256=body.get("sheet_image"), created_at=record.created_at,
                      crossed_out=body.get("crossed_out"))


def _decided(ledger: Ledger) -> dict[str, Record]:
    """Item uuid -> its latest decision."""
    return {d.body["item"]: d for d in ledger.records("review_decision")}


def open_items(ledger: Ledger) -> list[ReviewItem]:
    """Flagged answers nobody has decided yet, oldest first.

    Items of a response that a rescan replaced are no longer anyone's to decide.
    """
    decided = _decided(ledger)
    replaced = {r.body["replaces"] for r in ledger.records("survey_response")
                if r.body.get("replaces")}
    return [_item(r) for r in ledger.records("review_item")
            if r.uuid not in decided and r.body["response"] not in replaced]


def find_item(ledger: Ledger, item_id: str) -> ReviewItem:
    """An item by its full uuid or a unique prefix of at least 6 characters."""
    item_id = item_id.strip().lower()
    if len(item_id) < 6:
        raise ReviewError("review_id_too_short")
    matches = [r for r in ledger.records("review_item") if r.uuid.startswith(item_id)]
    if not matches:
        raise ReviewError("review_no_item", item=item_id)
    if len(matches) > 1:
        raise ReviewError("review_id_ambiguous", item=item_id, n=len(matches))
    return _item(matches[0])


def parse_value(ledger: Ledger, item: ReviewItem, raw: str) -> Any:
    """The typed value for the item's question, checked against the form's options."""
    response = ledger.get(item.response_uuid)
    if response is None:
        raise ReviewError("review_response_missing", response=item.response_uuid, item=item.short_id)
    form = office_forms(ledger).get(response.body["form"], response.body["form_version"])
    question = form.question(item.question)
    text = normalize_input(raw)
    if text.lower() in BLANK_WORDS:
        return [] if question.kind == "multi" else None
    if question.kind == "digits":
        if not (text.isdigit() and text.isascii() and len(text) == question.digits):
            raise ReviewError("review_digits", question=question.id, n=question.digits, raw=raw)
        return text
    by_text = {str(option.value): option.value for option in question.options}
    if question.kind == "multi":
        values = [v.strip() for v in text.split(",") if v.strip()]
        unknown = [v for v in values if v not in by_text]
        if unknown:
            raise ReviewError("review_unknown_options", question=question.id, unknown=", ".join(unknown),
                              options=", ".join(by_text))
        return [by_text[v] for v in values]
    if text not in by_text:
        raise ReviewError("review_not_an_option", question=question.id, raw=raw, options=", ".join(by_text))
    return by_text[text]


def resolve(ledger: Ledger, item_id: str, value: str, by: str, *, again: bool = False) -> Record:
    """Record a person's decision for one item (and audit it); refuses a second unless `again`."""
    item = find_item(ledger, item_id)
    previous = ledger.find("review_decision", "item", item.id)
    if previous and not again:
        last = previous[-1]
        raise ReviewError("review_already_decided", item=item.short_id, by=last.body["by"],
                          value=repr(last.body["value"]))
    typed = parse_value(ledger, item, value)
    response = ledger.get(item.response_uuid)
    office = response.office if response else "UNKNOWN"
    with ledger.transaction():
        decision = ledger.append("review_decision", review_decision(
            item=item.id, response=item.response_uuid, sheet_id=item.sheet,
            question=item.question, value=typed, machine_value=item.machine_value,
            reason=item.reason, by=by, replaces=previous[-1].uuid if previous else None),
            office=office)
        ledger.append("audit", {"event": "review_decision", "review_item": item.id,
                                "decision": decision.uuid,
                                "sheet_id": item.sheet, "question": item.question, "by": by,
                                "machine_value": item.machine_value, "value": typed},
                      office=office)
    return decision


def decisions_of(ledger: Ledger, response_uuid: str) -> list[Decision]:
    """The review decisions naming one response, as `forms.responses` reads them."""
    return [Decision.from_record(d.uuid, d.created_at, d.body)
            for d in ledger.find("review_decision", "response", response_uuid)]


def effective_answers(ledger: Ledger, response_uuid: str) -> Answers:
    """A paper response's answers with every human decision applied (the latest decision per
    item wins); ``.pending`` names the flagged questions nobody has decided yet."""
    response = ledger.get(response_uuid)
    if response is None:
        raise ReviewError("review_no_response", response=response_uuid)
    return _effective(response.body, decisions_of(ledger, response_uuid))
