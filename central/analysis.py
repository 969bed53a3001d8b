"""Satisfaction analysis over the central store: the figures behind the dashboard, the monthly
report and the exports (issue #6, "Analysis").

Article 9 clause 5 asks every visitor about (1) the workflow, (2) whether the visit matched
what was announced beforehand and (3) the staff's behaviour, and uses the answers both to
improve processes and to evaluate staff.  Because the figures can reward or discipline a
person, they are reported with their uncertainty and never ranked on too few answers:

- every rating question (1-5) gets its mean, a 95 % confidence interval (Student t) and n;
- question (2) gets the share of "yes" with a Wilson 95 % interval;
- :func:`rank` puts groups with fewer than ``min_responses`` answers (default 30) apart as
  "insufficient data"; they get no rank, ever.

Groups are any of ``office``, ``service``, ``desk``, ``source`` (paper | kiosk) and ``month``
(the Jalali month in Tehran time).  Every figure reads the monthly roll-ups of
:mod:`central.rollups`, which hold the *effective* answers (people's review decisions
applied, answers still waiting for review counted as pending, rescanned sheets once, blank
sheets not at all: :func:`forms.responses.response_facts`, as at the office).  The SQL is one
text for SQLite and PostgreSQL.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import jdatetime

from forms.catalogue import load_services, service_body
from forms.persian import parse_jalali_month
from forms.responses import RATING_QUESTIONS

from . import audit, rollups, service_catalogue as catalogue_versions
from .db import cases as case_rows, records as record_rows, rollups as rollup_rows
from .db.schema import comment_fields, comment_index_sql, has_comment

__all__ = [
    "COMMENT_PAGE", "DIMENSIONS", "MIN_RESPONSES", "RATING_QUESTIONS", "Comment", "CommentPage",
    "GroupStats", "Mean", "Share", "ServiceMatch", "cases_by_type",
    "comment_crop", "comments", "drop_analysis_indexes",
    "ensure_analysis_indexes", "ensure_comment_index", "has_analysis_table", "matched_by_service",
    "matched_by_version", "VersionMatch",
    "mean_interval", "month_bounds", "month_key", "months_before", "rank", "refresh_analysis",
    "refreshed", "satisfaction", "service_catalogue", "t_quantile", "trend", "wilson_interval",
]

#: Fewer answers than this and a group is "insufficient data": shown, never ranked.
MIN_RESPONSES = 30
#: What figures can be grouped by.
DIMENSIONS = ("office", "service", "desk", "source", "month")

_TEHRAN = ZoneInfo("Asia/Tehran")
_Z95 = 1.959963984540054
# Two-sided 95 % Student t quantiles for 1..30 degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


# -- statistics (pure) ------------------------------------------------------------------


class Mean(NamedTuple):
    """Mean of a 1-5 question with its 95 % interval; ``low``/``high`` are None when n < 2."""

    n: int
    mean: float | None
    low: float | None
    high: float | None


class Share(NamedTuple):
    """Share of "yes" (question 2) with its Wilson 95 % interval."""

    n: int
    yes: int
    partly: int
    share: float | None
    low: float | None
    high: float | None


@lru_cache(maxsize=4096)
def t_quantile(df: int) -> float:
    """Two-sided 95 % Student t quantile (table to 30 df, Cornish-Fisher expansion beyond)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T95):
        return _T95[df - 1]
    z = _Z95
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def mean_interval(n: int, total: float, total_squares: float) -> Mean:
    """Mean and t interval from the sufficient statistics n, sum x and sum x^2."""
    if n <= 0:
        return Mean(0, None, None, None)
    mean = total / n
    if n < 2:
        return Mean(n, mean, None, None)
    variance = (total_squares - total * total / n) / (n - 1)
    half = t_quantile(n - 1) * math.sqrt(variance / n) if variance > 0 else 0.0
    low, high = mean - half, mean + half  # a 1-5 answer's mean cannot leave 1..5
    return Mean(n, mean, low if low > 1.0 else 1.0, high if high < 5.0 else 5.0)


def wilson_interval(yes: int, n: int, *, partly: int = 0) -> Share:
    """Share of yes among n answers with the Wilson score interval (good near 0 and 1)."""
    if n <= 0:
        return Share(0, 0, 0, None, None, None)
    p = yes / n
    z2 = _Z95 * _Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Share(n, yes, partly, p, max(0.0, centre - half), min(1.0, centre + half))


# -- Jalali months ------------------------------------------------------------------------


def month_key(month: str | tuple[int, int]) -> tuple[int, int]:
    """(year, month) from "1405-09", "۱۴۰۵/۰۹" or a tuple; InvalidInput if impossible."""
    if isinstance(month, tuple):
        year, number = month
        if not 1 <= number <= 12 or year < 1:
            raise ValueError(f"invalid Jalali month {month!r}")
        return int(year), int(number)
    return parse_jalali_month(month)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def month_bounds(month: str | tuple[int, int]) -> tuple[str, str]:
    """The month as a half-open UTC range [start, end) in the store's time spelling.

    A Jalali month runs from local (Tehran) midnight of its first day to local midnight of the
    next month's first day; records carry UTC, so 1405-09 (2026-11-22..2026-12-21) starts at
    2026-11-21T20:30Z.
    """
    year, number = month_key(month)
    first = jdatetime.date(year, number, 1).togregorian()
    nyear, nnumber = (year + 1, 1) if number == 12 else (year, number + 1)
    following = jdatetime.date(nyear, nnumber, 1).togregorian()
    start = datetime(first.year, first.month, first.day, tzinfo=_TEHRAN)
    end = datetime(following.year, following.month, following.day, tzinfo=_TEHRAN)
    return _utc_text(start), _utc_text(end)


def months_before(month: str | tuple[int, int], count: int) -> list[tuple[int, int]]:
    """``count`` months ending with ``month``, oldest first (for trends)."""
    year, number = month_key(month)
    out = []
    for _ in range(count):
        out.append((year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out[::-1]


def _month_label(key: tuple[int, int]) -> str:
    return f"{key[0]:04d}-{key[1]:02d}"


# -- where a field lives in a JSON body (comments and case counts read records directly) ----------


# -- roll-ups (rollups.py): the effective answers summed per month -----------------------------


def refresh_analysis(store) -> int:
    """Fold survey responses and review decisions stored since the last refresh into the
    roll-ups (:mod:`central.rollups`); returns how many records were folded."""
    return rollups.refresh_rollups(store)


def has_analysis_table(store) -> bool:
    """Whether the store has roll-ups of the current version."""
    return rollups.has_rollups(store)


def ensure_analysis_indexes(store) -> None:
    """Make (or rebuild) the roll-ups and fold everything stored; see :mod:`central.rollups`."""
    rollups.ensure_rollups(store)


def drop_analysis_indexes(store) -> None:
    """Remove the roll-ups; the next query rebuilds them from the records."""
    rollups.drop_rollups(store)


def refreshed(store) -> None:
    """Bring the roll-ups up to date before a query: made if missing, new records folded."""
    found = rollups.state(store)
    if found == "missing":
        rollups.ensure_rollups(store)
    elif found == "waiting":
        rollups.refresh_rollups(store)


# -- grouped figures ---------------------------------------------------------------------------


class GroupStats:
    """The figures of one group (e.g. one desk of one office in one month).

    Built from the roll-ups' sums (:meth:`of_sums`), its means and share are worked out when
    first read: a month per office x service x desk is twenty thousand groups, and most
    callers read a few figures of a few of them."""

    __slots__ = ("key", "responses", "min_responses", "incomplete", "_sums", "_means", "_matched")

    def __init__(self, key: dict[str, str | None], responses: int, means: dict[str, Mean] | None = None,
                 matched: Share | None = None, min_responses: int = MIN_RESPONSES, incomplete: int = 0,
                 *, sums: Sequence[Any] | None = None) -> None:
        self.key = key
        self.responses = responses
        self.min_responses = min_responses
        self.incomplete = incomplete
        self._sums = sums
        self._means = means
        self._matched = matched

    @classmethod
    def of_sums(cls, key: dict[str, str | None], row: Sequence[Any], min_responses: int) -> GroupStats:
        """From one result row of sums in :data:`rollups.COUNTERS` order."""
        return cls(key, int(row[0] or 0), None, None, min_responses, int(row[1] or 0), sums=row)

    @property
    def means(self) -> dict[str, Mean]:
        if self._means is None:
            row = self._sums
            self._means = {q: mean_interval(int(row[i] or 0), float(row[i + 1] or 0), float(row[i + 2] or 0))
                           for q, i in _RATING_AT}
        return self._means

    @property
    def matched(self) -> Share:
        if self._matched is None:
            row = self._sums
            self._matched = wilson_interval(int(row[_AT["matched_yes"]] or 0), int(row[_AT["matched_n"]] or 0),
                                            partly=int(row[_AT["matched_partly"]] or 0))
        return self._matched

    @property
    def sufficient(self) -> bool:
        """Enough answers to rank or compare this group (the fairness rule)."""
        return self.responses >= self.min_responses

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "responses": self.responses, "sufficient": self.sufficient,
                "means": {q: m._asdict() for q, m in self.means.items()}, "matched": self.matched._asdict()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GroupStats) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"GroupStats({self.key!r}, responses={self.responses})"


_AT = {name: i for i, name in enumerate(rollups.COUNTERS)}
_RATING_AT = tuple((q, _AT[f"{q}_n"]) for q in RATING_QUESTIONS)


def _stats(key: dict[str, str | None], row: Sequence[Any], min_responses: int) -> GroupStats:
    """GroupStats from one result row of sums in :data:`rollups.COUNTERS` order."""
    return GroupStats.of_sums(key, row, min_responses)


def _filters(column: dict[str, str], filters: dict[str, str | None], where: list[str],
             params: list[Any]) -> None:
    for name, value in filters.items():
        if value is not None:
            where.append(f"{column[name]} = ?")
            params.append(value)


def _query(store, by: Sequence[str], months: Sequence[tuple[int, int]], *, office: str | None,
           source: str | None, service: str | None) -> list[tuple]:
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {DIMENSIONS}")
    refreshed(store)
    table = "analysis_by_desk" if "desk" in by else "analysis_by_service"
    column = {k: k for k in rollups.ROLLUPS[table]}
    where = ["month >= ?", "month <= ?"] if len(months) > 1 else ["month = ?"]
    params: list[Any] = ([_month_label(months[0]), _month_label(months[-1])] if len(months) > 1
                         else [_month_label(months[0])])
    _filters(column, {"office": office, "source": source, "service": service}, where, params)
    with store.connect() as db:
        return rollup_rows.grouped_totals(db, table, by, rollups.COUNTERS, where, params)


def satisfaction(store, month: str | tuple[int, int], by: Sequence[str] = ("office",), *,
                 office: str | None = None, source: str | None = None, service: str | None = None,
                 min_responses: int = MIN_RESPONSES, months: int = 1) -> list[GroupStats]:
    """Figures for one Jalali month (or the ``months`` ending with it), grouped ``by`` any of
    :data:`DIMENSIONS`; optionally only one office, one source (paper|kiosk) or one service.
    Sorted by the group key; use :func:`rank` to order them fairly."""
    span = months_before(month, months)
    width = len(by)
    found = []
    for row in _query(store, by, span, office=office, source=source, service=service):
        if row[width]:
            found.append((row[:width], row))
    found.sort(key=lambda item: item[0])  # group keys are text ('' for none): key order
    return [GroupStats.of_sums({d: (v if v != "" else None) for d, v in zip(by, keys)}, row[width:], min_responses)
            for keys, row in found]


def trend(store, month: str | tuple[int, int], months: int = 12, by: Sequence[str] = (), *,
          office: str | None = None, source: str | None = None,
          min_responses: int = MIN_RESPONSES) -> list[GroupStats]:
    """Per-month figures for the ``months`` ending with ``month`` (oldest first); each group
    key has ``month`` ("1405-09") plus the ``by`` dimensions.  Months with no answers appear
    with responses 0 when not grouped further."""
    rows = satisfaction(store, month, ("month", *by), office=office, source=source,
                        min_responses=min_responses, months=months)
    if by:
        return rows
    seen = {g.key["month"]: g for g in rows}
    out = []
    for key in months_before(month, months):
        label = _month_label(key)
        out.append(seen.get(label) or _stats({"month": label}, [0] * len(rollups.COUNTERS), min_responses))
    return out


@dataclass(frozen=True)
class Ranking:
    ranked: list[tuple[int, GroupStats]]
    insufficient: list[GroupStats]
    question: str
    min_responses: int
    #: Groups that are not a desk at all (answers without a desk number): a data-quality
    #: figure, never ranked and never compared with desks.
    no_desk: list[GroupStats] = ()


def rank(groups: Iterable[GroupStats], question: str = "staff_behaviour", *,
         min_responses: int = MIN_RESPONSES) -> Ranking:
    """Order groups by their mean on ``question`` (best first), but only those with at least
    ``min_responses`` answers to that question; the rest are returned as insufficient data,
    unranked (clause 5 uses these figures to reward and discipline people).  Answers given
    without a desk number are nobody's desk: they are set apart in ``no_desk``, never ranked."""
    if question not in RATING_QUESTIONS and question != "matched_announcement":
        raise ValueError(f"unknown question {question!r}")
    ranked, insufficient, no_desk = [], [], []
    for group in groups:
        if "desk" in group.key and not group.key["desk"]:
            no_desk.append(group)
            continue
        n = group.matched.n if question == "matched_announcement" else group.means[question].n
        (ranked if n >= min_responses and group.responses >= min_responses else insufficient).append(group)

    def value(g: GroupStats) -> float:
        return g.matched.share if question == "matched_announcement" else g.means[question].mean

    ranked.sort(key=lambda g: (-value(g), tuple(str(v) for v in g.key.values())))
    return Ranking([(i + 1, g) for i, g in enumerate(ranked)], insufficient, question, min_responses,
                   no_desk)


# -- question (2) per service, with the catalogue entry -------------------------------------------


@dataclass(frozen=True)
class ServiceMatch:
    """Question (2) for one service, next to what its catalogue entry announces."""

    service: str
    stats: GroupStats
    catalogue: dict[str, Any] | None  # {"name", "documents", "fee_rials", "time", ...} or None
    #: the month's answers split by the catalogue version in force on each visit day
    versions: tuple[VersionMatch, ...] = ()

    @property
    def no_share(self) -> float | None:
        m = self.stats.matched
        return None if not m.n else (m.n - m.yes - m.partly) / m.n


def service_catalogue(store, path: Path | None = None, *, day: str | None = None) -> dict[str, dict[str, Any]]:
    """Service id -> catalogue entry announced on ``day`` (default today): the newest version
    the central office published (central/service_catalogue.py, with its ``version`` and
    ``effective_from``), else an entry published before versions existed (feed key without
    ``@``), else the YAML at ``path`` (else the kiosk's built-in catalogue)."""
    base = {s.id: s for s in load_services(path)} if path is not None else catalogue_versions.builtin_services()
    entries = {key: service_body(s) for key, s in base.items()}
    versioned, legacy = catalogue_versions.published_catalogue(store)  # one query: dashboards count them
    entries.update(legacy)
    entries.update({key: service_body(s) for key, s in catalogue_versions.catalogue_from(versioned, day).items()
                    if key in versioned})
    return entries


@dataclass(frozen=True)
class VersionMatch:
    """Question (2) of the answers given while one catalogue version was in force."""

    service: str
    version: int                     # 0: none published yet (the offices showed the built-in entry)
    effective_from: str | None       # ISO day the version took effect
    catalogue: dict[str, Any] | None
    stats: GroupStats


def matched_by_version(store, month: str | tuple[int, int], *, office: str | None = None,
                       service: str | None = None, services: Sequence[str] | None = None,
                       min_responses: int = MIN_RESPONSES, months: int = 1) -> list[VersionMatch]:
    """Question (2) per service and catalogue version: each answer is compared with the version
    in force at its office on the visit day (the latest effective day on or before it), not
    with today's catalogue, so a fee changed mid-month does not blame the old announcement for
    the new one.  Ordered by service, then version."""
    if services is not None and not services:
        return []
    refreshed(store)
    span = months_before(month, months)
    first = date.fromisoformat(month_bounds(span[0])[0][:10]) + timedelta(days=1)  # UTC starts 20:30 the day before
    last = date.fromisoformat(month_bounds(span[-1])[1][:10])
    with store.connect() as db:
        rows = rollup_rows.matched_days(db, first.isoformat(), last.isoformat(), office=office, service=service,
                                        services=services)
    published = catalogue_versions.versions_by_service(store)
    builtin = catalogue_versions.builtin_services()
    sums: dict[tuple[str, int], list[int]] = {}
    chosen: dict[tuple[str, int], Any] = {}
    for day, code, sid, n, yes, partly in rows:
        version = catalogue_versions.pick_in_force(published.get(sid, []), code, day)
        key = (sid, version.number if version is not None else 0)
        chosen[key] = version
        total = sums.setdefault(key, [0, 0, 0])
        total[0] += int(n)
        total[1] += int(yes)
        total[2] += int(partly)
    out = []
    for (sid, number), (n, yes, partly) in sorted(sums.items()):
        version = chosen[(sid, number)]
        entry = (service_body(version.service) if version is not None
                 else service_body(builtin[sid]) if sid in builtin else None)
        stats = GroupStats({"service": sid, "version": str(number)}, n, {}, wilson_interval(yes, n, partly=partly),
                           min_responses)
        out.append(VersionMatch(sid, number, version.service.effective_from if version is not None else None,
                                entry, stats))
    return out


def matched_by_service(store, month: str | tuple[int, int], *, office: str | None = None,
                       catalogue: dict[str, dict[str, Any]] | None = None,
                       min_responses: int = MIN_RESPONSES, months: int = 1) -> list[ServiceMatch]:
    """Question (2) per service, worst "yes" share first among services with enough answers
    (then the rest), each with its catalogue entry so the misleading announcement is found."""
    if catalogue is None:
        catalogue = service_catalogue(store)
    groups = satisfaction(store, month, ("service",), office=office,
                          min_responses=min_responses, months=months)
    by_version: dict[str, list[VersionMatch]] = {}
    published = sorted(catalogue_versions.versions_by_service(store))  # the others: version 0 all month
    for found in matched_by_version(store, month, office=office, services=published,
                                    min_responses=min_responses, months=months):
        by_version.setdefault(found.service, []).append(found)
    out = [ServiceMatch(g.key["service"] or "", g, catalogue.get(g.key["service"] or ""),
                        tuple(by_version.get(g.key["service"] or "", ())))
           for g in groups]
    out.sort(key=lambda s: (not (s.stats.matched.n >= min_responses),
                            s.stats.matched.share if s.stats.matched.share is not None else 2.0,
                            s.service))
    return out


# -- cases ------------------------------------------------------------------------------------


def cases_by_type(store, month: str | tuple[int, int], *, office: str | None = None) -> dict[str, int]:
    """How many cases of each type (request, complaint, ..., misconduct) arrived in ``month``
    (by the time the office took them: the cohort :func:`figures.case_figures` follows)."""
    start, end = month_bounds(month)
    with store.connect() as db:
        return case_rows.cases_by_type(db, start, end, office)


# -- comments (the comment browser of the web app) ----------------------------------------------
#
# A survey response's comment is either typed at a kiosk (``answers.comment``) or handwritten
# on paper, where the scanner keeps the comment box as a PNG crop (``attachments.comment``, a
# blob's SHA-256) and judges whether it holds handwriting (``writing.comment``).  A partial
# index over (created_at, id) of the responses that carry either keeps a page of comments one
# index range scan, newest first, paged by keyset.

COMMENT_PAGE = 50
_SEARCH_FOLDS = ([("\u064a", "\u06cc"), ("\u0649", "\u06cc"), ("\u0643", "\u06a9")]
                 + [(d, str(i)) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")]
                 + [(d, str(i)) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")])


@dataclass(frozen=True)
class Comment:
    """One comment, with nothing about the person beyond the comment itself."""

    uuid: str
    office: str
    created_at: str
    source: str | None
    service: str | None
    text: str | None        # typed at a kiosk
    crop: str | None        # SHA-256 of the handwritten comment box (paper)
    writing: bool           # typed text, or the scanner saw handwriting in the crop
    cursor: str             # keyset position of this comment ("created_at|id")


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    next_cursor: str | None  # None: this is the last page


def ensure_comment_index(store) -> None:
    """Create the comment index if missing (idempotent; concurrent callers serialised)."""
    with store.connect() as db:
        if record_rows.comment_index_present(db):
            return
    with store.write() as db:
        db.lock("comment_index")
        db.script(comment_index_sql(store.dialect))


def _folded(dialect: str, expr: str) -> str:
    """``expr`` with Arabic ye/kaf and Persian/Arabic digits folded, lower-cased (search)."""
    for old, new in _SEARCH_FOLDS:
        expr = f"replace({expr}, '{old}', '{new}')"
    return f"lower({expr})"


def comments(store, month: str | tuple[int, int], *, office: str | None = None,
             service: str | None = None, source: str | None = None, writing: str = "yes",
             search: str | None = None, after: str | None = None,
             limit: int = COMMENT_PAGE, viewer: str, now: datetime | None = None) -> CommentPage:
    """One page of the month's comments, newest first; what citizens wrote, so reading it is
    an audit entry of ``viewer`` (``view_comments``, naming the filters).

    ``writing``: "yes" (typed text, or a crop with handwriting: the default), "no" (crops the
    scanner judged empty, to check it) or "any".  ``search`` is matched in typed text after
    folding ye/kaf and digits on both sides (pass it through ``normalize_input`` first).
    ``after`` is the ``cursor`` of the last comment of the previous page.  Rejected pages are
    never shown.
    """
    from forms.persian import normalize_input  # normalise here too: callers may forget

    start, end = month_bounds(month)
    f = comment_fields(store.dialect)
    where = [has_comment(store.dialect), "created_at >= ?", "created_at < ?",
             f"({f['status']} IS NULL OR {f['status']} <> 'rejected')"]
    params: list[Any] = [start, end]
    typed = f"({f['text']} IS NOT NULL AND {f['text']} <> '')"
    written = f"{f['writing']} IN ('1', 'true')"
    if writing == "yes":
        where.append(f"({typed} OR ({f['crop']} IS NOT NULL AND {written}))")
    elif writing == "no":
        where.append(f"({f['crop']} IS NOT NULL AND NOT {typed} AND ({f['writing']} IS NULL OR NOT {written}))")
    elif writing != "any":
        raise ValueError(f"writing must be yes, no or any, not {writing!r}")
    if office:
        where.append("office = ?")
        params.append(office)
    for name, value in (("service", service), ("source", source)):
        if value:
            where.append(f"{f[name]} = ?")
            params.append(value)
    if search:
        needle = normalize_input(search)
        for old, new in _SEARCH_FOLDS:
            needle = needle.replace(old, new)
        if needle:
            finder = "instr" if store.dialect == "sqlite" else "strpos"
            where.append(f"{finder}({_folded(store.dialect, f['text'])}, ?) > 0")
            params.append(needle.lower())
    if after:
        try:
            at, _, ident = after.rpartition("|")
            ident_value = int(ident) if len(ident) <= 19 else -1
        except ValueError:
            raise ValueError(f"bad page cursor {after!r}") from None
        if not 0 < ident_value < 2 ** 63:  # a record id: never more than a BIGINT holds
            raise ValueError(f"bad page cursor {after!r}")
        where.append("(created_at, id) < (?, ?)")
        params += [at, ident_value]
    with store.connect() as db:
        rows = record_rows.comment_rows(
            db, [f["source"], f["service"], f["text"], f["crop"], f["writing"]], where, params,
            limit + 1)
    out = [Comment(uuid, office_code, created_at, src, svc, text, crop,
                   bool(text) or (written_flag in ("1", "true")), f"{created_at}|{ident}")
           for ident, uuid, office_code, created_at, src, svc, text, crop, written_flag in rows[:limit]]
    year, number = month_key(month)
    filters = (("office", office), ("service", service), ("source", source), ("writing", writing), ("q", search))
    audit.record(store, viewer, "view_comments", f"comments:{year:04d}-{number:02d}",
                 " ".join(f"{k}={v}" for k, v in filters if v), now=now)
    return CommentPage(out, out[-1].cursor if len(rows) > limit else None)


def comment_crop(store, response_uuid: str) -> str | None:
    """The SHA-256 of a survey response's handwritten comment crop, if it has one (only these
    crops are served as comments: never another attachment by its hash), and only if the
    response's own office sent an attachment record for it: blobs are stored once by hash for
    every office, so an office that names another office's hash exposes nothing."""
    crop = comment_fields(store.dialect)["crop"]
    with store.connect() as db:
        row = record_rows.response_comment_crop(db, response_uuid, crop)
    if not row or not row[1]:
        return None
    return row[1] if store.office_sent_blob(row[0], row[1]) else None


def comment_crop_image(store, response_uuid: str, *, viewer: str, now: datetime | None = None) -> bytes | None:
    """The PNG of a response's handwritten comment (:func:`comment_crop`), None if there is
    none; each image served is an audit entry of ``viewer`` (``view_comment_crop``)."""
    sha256 = comment_crop(store, response_uuid)
    data = store.blob(sha256) if sha256 else None
    if data is not None:
        audit.record(store, viewer, "view_comment_crop", f"survey_response:{response_uuid}", sha256, now=now)
    return data
