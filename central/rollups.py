"""The satisfaction roll-ups: every survey response's *effective* answers, summed per month.

Scanning millions of JSON bodies cannot answer a dashboard in 500 ms, so small tables hold
sums per Jalali month (Tehran), and every figure reads them:

- ``analysis_by_desk`` (month, office, service, desk, source) and ``analysis_by_service``
  (month, office, service, source): responses, incomplete kiosk visits, n / sum / sum of
  squares of each 1-5 rating, and question (2)'s answered / yes / partly: what a mean, a t
  interval and a Wilson interval need, additive across groups and months;
- ``analysis_answers`` (month, office, source, question, value): per option value how many
  chose it; the row with value ``''`` holds how many answered the question at all (``n``) and
  how many answers still wait for a person (``pending``);
- ``analysis_waiting`` (month, office, service, value): the waiting-time answers per service;
- ``analysis_by_day`` (Tehran day, office, source): responses per day, so an office that stops
  handing out sheets shows up;
- ``analysis_matched_by_day`` (Tehran day, office, service): question (2)'s answered / yes /
  partly per visit day, so each answer is compared with the catalogue version in force at its
  office on that day (analysis.matched_by_version);
- ``analysis_calls``: responses whose visitor agreed to be called and left a mobile number
  (the call list; its marks live in ``call_marks``, which a rebuild never touches).

What a response adds is :func:`forms.responses.response_facts`: the machine's answers with
the people's review decisions applied, the same function the office dashboard uses.  The
centre keeps what it needs to apply decisions that arrive in any order:

- ``analysis_decisions``: every ``review_decision`` folded so far (a decision may arrive
  before its sheet, twice, or be changed with ``--again``; :func:`forms.responses.latest_decisions`
  picks the one that stands);
- ``analysis_replaced``: responses a rescan of the same sheet replaced (never counted again);
- ``analysis_duplicates``: responses of a paper sheet answered twice, scanned and online from
  the sheet's survey link (forms/survey_tokens.py).  A sheet is one response: the answer that
  reached the centre first counts (a scanned sheet's rescans count in its place), the other is
  kept as a record, listed here with the one counted, and left out of every count
  (``answered_twice`` in the figures).  "First" is the stored ``received_at`` (then the
  uuid), never the order records are folded in, so every fold order gives the same figures.

Folding is incremental and exact.  New ``survey_response`` and ``review_decision`` records
are found past a counter (SQLite: one writer, so ids are handed out in commit order) or in
``analysis_pending``, filled by a trigger in the inserting transaction (PostgreSQL, where ids
are drawn before commit).  For each chunk of them, in one transaction: a response already
counted that a new decision or rescan changes is taken out with its old facts and put back
with its new ones; new responses are added with every decision already known.  Ingest pays
nothing but the trigger; the next query folds.  Rebuilding (a new :data:`VERSION`, or a store
made before) refolds everything from the records.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from forms.responses import (RATING_QUESTIONS, Decision, ResponseFacts, form_for, jalali_month_of,
                             local_day, response_facts)

from .db import folding, sheets as sheet_db
from .db.folding import ANSWERS, DAYS
from .db.schema import COUNTERS, FOLDED_COUNTER, ROLLUP_VERSION, ROLLUPS, VERSION_COUNTER
from .form_versions import catalog_in


__all__ = ["ANSWERS", "COUNTERS", "DAYS", "ROLLUPS", "VERSION", "drop_rollups", "ensure_rollups",
           "has_rollups", "refresh_rollups", "settled_in", "state", "tehran_day"]

# The tables' shapes live in the schema source (central/db/schema.py) and the fold's statements
# in central/db/folding.py; the names are kept here because every fold and figure reads them.
VERSION = ROLLUP_VERSION
#: The question whose answers are also kept per service (waiting time per office and service).
WAITING_QUESTION = "waiting_time"
#: Records folded per transaction: ingest can slip in between chunks of a long rebuild.
CHUNK = 200_000
#: SQLite page cache while folding (KiB).
FOLD_CACHE_KIB = 256 * 1024
_FOLDED = FOLDED_COUNTER
_VERSION_KEY = VERSION_COUNTER


def state(store) -> str:
    """"missing" (no roll-ups of this version), "waiting" (records to fold) or "current", in
    one query on SQLite and two on PostgreSQL: every figure asks this first."""
    with store.connect() as db:
        if store.dialect == "sqlite":
            version, folded, waiting = folding.sqlite_state(db)
            if version is None or int(version) != VERSION or folded is None:
                return "missing"
            return "waiting" if waiting else "current"
        version = folding.version_counter(db)
        if version is None or int(version) != VERSION:
            return "missing"
        return "waiting" if folding.any_pending(db) else "current"


def has_rollups(store) -> bool:
    """Whether this store's roll-ups are of the current :data:`VERSION`."""
    with store.connect() as db:
        found = folding.rollup_counters(db)
    return (int(found.get(_VERSION_KEY, 0)) == VERSION
            and (store.dialect != "sqlite" or _FOLDED in found))


def ensure_rollups(store) -> None:
    """Make the derived tables and fold every record already stored; a store whose roll-ups
    are of an older version (or have none) is rebuilt.  Idempotent; concurrent callers are
    serialised.  :meth:`Store.migrate` calls it after the schema steps."""
    if not has_rollups(store):
        with store.write() as db:
            db.lock("rollups")
            found = folding.rollup_counters(db)
            if int(found.get(_VERSION_KEY, 0)) != VERSION or (store.dialect == "sqlite" and _FOLDED not in found):
                folding.drop_rollups(db, store.dialect)
                folding.create_rollups(db, store.dialect)
    refresh_rollups(store)
    with store.connect() as db:
        folding.analyze(db)


def drop_rollups(store) -> None:
    """Remove the derived tables (the next :func:`ensure_rollups` rebuilds them); the call
    list's marks (``call_marks``) are kept."""
    with store.write() as db:
        folding.drop_rollups(db, store.dialect)


def settled_in(store, start: str, end: str, office: str | None = None
               ) -> tuple[dict[str, list[Decision]], set[str]]:
    """For the survey responses created in [start, end) (and office): the review decisions
    folded so far, by response, and the responses not counted: replaced by a rescan, or a
    sheet's second answer (exports read them)."""
    decisions: dict[str, list[Decision]] = {}
    with store.connect() as db:
        for row in folding.settled_decision_rows(db, start, end, office):
            decision = _decision(row)
            decisions.setdefault(decision.response, []).append(decision)
        # a sheet's second answer is not counted either, like the figures
        replaced = folding.uncounted_created(db, start, end, office)
    return decisions, replaced


# -- folding ------------------------------------------------------------------------------------


def refresh_rollups(store) -> int:
    """Fold every survey response and review decision stored since the last refresh; returns
    how many records were folded (0: nothing was waiting).  Every query calls it first."""
    with store.connect() as db:
        if store.dialect == "sqlite":
            start = folding.folded_up_to(db)
            if start is None:
                return 0
            waiting = folding.waiting_after(db, start)
        else:
            waiting = folding.any_pending(db)
    if not waiting:
        return 0
    total = 0
    while True:
        folded = _fold_chunk(store)
        if not folded:
            return total
        total += folded


def _fold_chunk(store) -> int:
    if store.dialect == "sqlite":
        # a bigger page cache while folding: a chunk touches most pages of the roll-ups
        with store.writing(), store.connect() as db, folding.big_cache(db, FOLD_CACHE_KIB), db.transaction():
            start = int(folding.folded_up_to(db))
            rows = folding.records_after(db, start, CHUNK)
            if rows:
                _fold(db, rows, folded=folding.counted_up_to(start))
            end = rows[-1][0] if len(rows) == CHUNK else folding.last_record_id(db)
            if end > start:
                folding.set_folded_up_to(db, end)
            return len(rows)
    with store.connect() as db, db.transaction():
        db.lock("rollups")  # one folder at a time
        ids = folding.pending_ids(db, CHUNK)
        if not ids:
            return 0
        rows = folding.records_by_id(db, ids)
        # folded: stored and no longer waiting (this chunk's ids are still in the table)
        _fold(db, rows, folded=folding.NOT_PENDING)
        folding.forget_pending(db, ids)
        return len(ids)


class _Forms:
    """Form definitions by (id, version), looked up once per fold."""

    def __init__(self, db) -> None:
        # versions the centre published too: a sheet of version 2 reads with version 2
        self.catalog = catalog_in(db)
        self.cache: dict[tuple[Any, Any], Any] = {}

    def facts(self, body: Any, decisions: Sequence[Decision]) -> ResponseFacts | None:
        if not isinstance(body, dict):
            return None
        key = (body.get("form"), body.get("form_version"))
        if key not in self.cache:
            self.cache[key] = form_for(self.catalog, *key)
        return response_facts(body, decisions, self.cache[key])


def _fold(db, rows: Sequence[tuple], *, folded: str) -> None:
    """Fold one chunk of records (ids ascending) into the roll-ups; ``folded`` is the
    condition central/db/folding.py gave for a records row whose response is already in the
    roll-ups."""
    forms = _Forms(db)
    responses: list[tuple[str, str, str, Any]] = []
    decisions: list[tuple[Decision, str]] = []
    for _id, uuid, office, kind, created_at, text in rows:
        body = _loads(text)
        if kind == "survey_response":
            responses.append((uuid, office, created_at, body))
        elif isinstance(body, dict):
            decisions.append((Decision.from_record(uuid, created_at, body), office))
    new = {uuid for uuid, *_ in responses}
    replacing = [(body["replaces"], uuid) for uuid, _o, _c, body in responses
                 if isinstance(body, dict) and isinstance(body.get("replaces"), str)]
    # sheets this chunk may have answered twice (scanned and from the sheet's link)
    members = sheet_db.sheet_responses(db, _touched_sheets(db, responses))
    member_ids = [m.uuid for m in members]
    # 1. responses already counted that this chunk changes: their facts before it
    targets = ({d.response for d, _ in decisions} | {old for old, _ in replacing} | set(member_ids)) - new
    counted = _counted(db, targets, folded)
    before = _decisions_of(db, counted)
    deltas = _Deltas()
    for uuid, (office, created_at, body) in counted.items():
        deltas.add(office, created_at, forms.facts(body, before.get(uuid, ())), -1)
    # 2. what this chunk tells: decisions, and which responses a rescan replaced
    folding.add_decisions(db, [(d.uuid, d.response, d.item, d.question, json.dumps(d.value, ensure_ascii=False),
                                d.replaces, d.at) for d, _ in decisions])
    folding.add_replaced(db, replacing)
    # 3. every response touched, as it stands now
    replaced = folding.replaced_among(db, [*counted, *new, *member_ids])
    was_duplicate = folding.duplicates_among(db, member_ids)
    duplicates = sheet_duplicates(members, replaced)
    _write_duplicates(db, member_ids, duplicates)
    # a response that was a duplicate and counts again (a scan that reached the centre earlier
    # was folded later): put back, if it was folded before this chunk
    revived = {uuid: row for uuid, row in _counted(db, was_duplicate - set(duplicates) - replaced - new,
                                                   folded, uncounted_too=True).items()}
    after = _decisions_of(db, [*counted, *new, *revived])
    for uuid, (office, created_at, body) in [*counted.items(), *revived.items()]:
        facts = None if uuid in replaced or uuid in duplicates else forms.facts(body, after.get(uuid, ()))
        deltas.add(office, created_at, facts, +1)
        deltas.call(uuid, office, created_at, facts)
    for uuid, office, created_at, body in responses:
        if uuid in replaced or uuid in duplicates:
            continue
        facts = forms.facts(body, after.get(uuid, ()))
        deltas.add(office, created_at, facts, +1)
        deltas.call(uuid, office, created_at, facts)
    deltas.write(db)


def _loads(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _counted(db, uuids: Iterable[str], folded: str, *,
             uncounted_too: bool = False) -> dict[str, tuple[str, str, Any]]:
    """Responses among ``uuids`` whose facts are in the roll-ups now (``uncounted_too``: every
    one folded already, counted or not)."""
    return {uuid: (office, created_at, _loads(text)) for uuid, office, created_at, text
            in folding.folded_responses(db, uuids, folded, uncounted_too=uncounted_too)}


def _touched_sheets(db, responses: Sequence[tuple[str, str, str, Any]]) -> set[tuple[str, str]]:
    """(office, sheet) of this chunk's responses that another response of the same sheet may
    meet: every sheet answered from its link, and every scanned sheet also answered that way."""
    links, papers = set(), set()
    for _uuid, office, _created_at, body in responses:
        if isinstance(body, dict) and isinstance(body.get("sheet"), str):
            if body.get("source") == "sheet_link":
                links.add((office, body["sheet"]))
            elif body.get("source") == "paper":
                papers.add((office, body["sheet"]))
    return links | sheet_db.linked_sheets(db, papers - links) if links or papers else set()


def sheet_duplicates(members: Sequence[sheet_db.SheetResponse], replaced: set[str]
                     ) -> dict[str, tuple[str, str, str, str]]:
    """The responses of answered-twice sheets that are not counted: uuid -> (office, sheet,
    created_at, the uuid counted instead).

    Per sheet, the scanned responses are one chain (a rescan replaces the scan before it) that
    arrived when its first scan did; each response from the sheet's link is a chain of its
    own.  The chain that reached the centre first (``received_at``, then uuid) counts, through
    its response not replaced; every other chain's responses not replaced are duplicates.
    Only stored values decide, so the result is the same whatever order they were folded in.
    """
    by_sheet: dict[tuple[str, str], list[sheet_db.SheetResponse]] = {}
    for member in members:
        by_sheet.setdefault((member.office, member.sheet), []).append(member)
    out: dict[str, tuple[str, str, str, str]] = {}
    for (office, sheet), found in by_sheet.items():
        unique = {m.uuid: m for m in found}.values()
        paper = sorted((m for m in unique if m.source == "paper"), key=lambda m: (m.received_at, m.uuid))
        chains = [[m] for m in unique if m.source == "sheet_link"]
        if paper:
            chains.append(paper)
        if len(chains) < 2:
            continue
        chains.sort(key=lambda chain: (chain[0].received_at, chain[0].uuid))
        standing = [m for m in chains[0] if m.uuid not in replaced] or chains[0][-1:]
        counted = standing[-1].uuid
        for chain in chains[1:]:
            for member in chain:
                if member.uuid not in replaced:
                    out[member.uuid] = (office, sheet, member.created_at, counted)
    return out


def _write_duplicates(db, member_ids: Sequence[str], duplicates: dict[str, tuple[str, str, str, str]]) -> None:
    """Replace what ``analysis_duplicates`` says of these sheets' responses."""
    folding.replace_duplicates(db, member_ids,
                               [(uuid, office, sheet, jalali_month_of(tehran_day(created_at)), counted)
                                for uuid, (office, sheet, created_at, counted) in sorted(duplicates.items())])


def _decision(row: Sequence[Any]) -> Decision:
    """A row of ``analysis_decisions`` (:data:`central.db.folding.DECISION_COLUMNS`) as a Decision."""
    uuid, response, item, question, value, replaces, at = row
    return Decision(uuid=uuid, at=at, item=item, response=response, question=question,
                    value=_loads(value), replaces=replaces)


def _decisions_of(db, uuids: Iterable[str]) -> dict[str, list[Decision]]:
    out: dict[str, list[Decision]] = {}
    for row in folding.decision_rows(db, uuids):
        decision = _decision(row)
        out.setdefault(decision.response, []).append(decision)
    return out


#: The Tehran calendar day of a stored UTC time (one look-up per half hour).
tehran_day = local_day


def _vector(facts: ResponseFacts) -> tuple[int, ...]:
    """One response's :data:`COUNTERS`."""
    ratings = dict(facts.ratings)
    out = [1, 0 if facts.complete else 1]
    for question in RATING_QUESTIONS:
        value = ratings.get(question)
        out += (0, 0, 0) if value is None else (1, value, value * value)
    matched = facts.matched
    out += [1 if matched else 0, 1 if matched == "yes" else 0, 1 if matched == "partly" else 0]
    return tuple(out)


class _Deltas:
    """What one chunk adds to (and takes from) each roll-up, summed before it is written."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple, list[int]]] = {
            "analysis_by_desk": {}, "analysis_by_service": {}, "analysis_by_day": {},
            "analysis_matched_by_day": {}}
        self.answers: dict[tuple, list[int]] = {}   # (month, office, source, question, value) -> [n, pending]
        self.waiting: dict[tuple, int] = {}
        self.calls: dict[str, tuple[str, str, str] | None] = {}

    @staticmethod
    def _bump(table: dict[tuple, list[int]], key: tuple, values: Sequence[int], sign: int) -> None:
        current = table.get(key)
        if current is None:
            table[key] = [sign * v for v in values]
        else:
            for i, v in enumerate(values):
                current[i] += sign * v

    def add(self, office: str, created_at: str, facts: ResponseFacts | None, sign: int) -> None:
        if facts is None:
            return
        day = tehran_day(created_at)
        month = jalali_month_of(day)
        service, source = facts.service or "", facts.source
        vector = _vector(facts)
        self._bump(self.tables["analysis_by_desk"], (month, office, service, facts.desk or "", source), vector, sign)
        self._bump(self.tables["analysis_by_service"], (month, office, service, source), vector, sign)
        self._bump(self.tables["analysis_by_day"], (day.isoformat(), office, source), (1,), sign)
        self._bump(self.tables["analysis_matched_by_day"], (day.isoformat(), office, service), vector[-3:], sign)
        answers = self.answers
        for question in facts.answered:
            key = (month, office, source, question, "")
            entry = answers.get(key)
            if entry is None:
                answers[key] = [sign, 0]
            else:
                entry[0] += sign
        for question in facts.pending:
            key = (month, office, source, question, "")
            entry = answers.get(key)
            if entry is None:
                answers[key] = [0, sign]
            else:
                entry[1] += sign
        for question, value in facts.values:
            key = (month, office, source, question, value)
            entry = answers.get(key)
            if entry is None:
                answers[key] = [sign, 0]
            else:
                entry[0] += sign
            if question == WAITING_QUESTION:
                wkey = (month, office, service, value)
                self.waiting[wkey] = self.waiting.get(wkey, 0) + sign

    def call(self, uuid: str, office: str, created_at: str, facts: ResponseFacts | None) -> None:
        self.calls[uuid] = ((office, jalali_month_of(tehran_day(created_at)), created_at)
                            if facts is not None and facts.call_back else None)

    def write(self, db) -> None:
        self.tables["analysis_answers"] = self.answers
        self.tables["analysis_waiting"] = {k: [v] for k, v in self.waiting.items()}
        for table in folding.SUMMED:
            rows = self.tables[table]
            # in key order: neighbouring rows share B-tree pages, so a chunk touches each page once
            changed = sorted((*key, *values) for key, values in rows.items() if any(values))
            if not changed:
                continue
            # a group a response left may now be empty: add_sums removes it
            lowered = sorted(key for key, values in rows.items() if any(v < 0 for v in values))
            folding.add_sums(db, table, changed, lowered)
        eligible = [(uuid, *entry) for uuid, entry in self.calls.items() if entry is not None]
        gone = [(uuid,) for uuid, entry in self.calls.items() if entry is None]
        folding.update_calls(db, eligible, gone)
