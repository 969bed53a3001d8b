"""Form definitions: what a form asks, loaded from YAML files and checked before anyone uses them.

A definition is data, not code, so the central office can ship new forms to offices; and a
printed version is never changed, only superseded, because sheets printed last year must still
scan with the definition they were printed from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from .messages import MessageError, messages_for

QUESTION_KINDS = ("single", "multi", "digits", "text")
#: What the digits of a ``digits`` question are, when they are more than a number: the reader
#: (scanner, kiosk) checks an answer by its format, never by the question's id.  ``mobile``:
#: an Iranian mobile number (11 digits, 09...), checked with forms.persian.normalize_mobile.
DIGIT_FORMATS = {"mobile": 11}
FORM_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
QUESTION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_OPTIONS = 12
MAX_DIGITS = 16


class FormDefinitionError(MessageError, ValueError):
    """A definition is broken; the message names the file, the field and what is wrong, in the
    catalogue's words (``form_problem_*``), so an upload on the central pages is refused in
    Persian as exactly as the command line refuses a file."""

    def __init__(self, key: str, /, *, source: str = "", where: str = "", **values: object) -> None:
        super().__init__(key, **values)
        self.source, self.where = source, where

    def problem(self, locale: str) -> str:
        """What is wrong, without the file and field."""
        return super().text(locale)

    def text(self, locale: str) -> str:
        if not self.where:
            return messages_for(self.catalogue).text("form_problem_in_file", locale, source=self.source,
                                                     problem=self.problem(locale))
        return messages_for(self.catalogue).text("form_problem_at", locale, source=self.source,
                                                 where=self.where, problem=self.problem(locale))


class UnknownForm(MessageError, LookupError):
    """Asked for a form id or version that no definition file provides."""


@dataclass(frozen=True)
class Text:
    """A label in both locales: Persian first, English second."""

    fa: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.fa


@dataclass(frozen=True)
class Option:
    value: str | int
    label: Text


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    label: Text
    options: tuple[Option, ...] = ()
    digits: int = 0
    columns: int = 0
    scale: bool = False
    #: Needed for a response to count as *complete* (figures report complete and incomplete
    #: responses apart).  Never forced on the visitor: every question stays optional to answer.
    required: bool = False
    #: For a digits question, what the digits are (:data:`DIGIT_FORMATS`); "" = just digits.
    format: str = ""

    def option_values(self) -> tuple[str | int, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Form:
    id: str
    version: int
    title: Text
    intro: Text
    instructions: Text
    questions: tuple[Question, ...]
    source: str = field(default="", compare=False)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


def _fail(source: str, where: str, key: str, **values: object) -> FormDefinitionError:
    return FormDefinitionError(f"form_problem_{key}", source=source, where=where, **values)


def _names(values: Iterable[object]) -> str:
    return ", ".join(repr(v) for v in sorted(values, key=str))


def yaml_error(source: str, exc: yaml.YAMLError) -> FormDefinitionError:
    """A YAML (or JSON: YAML reads both) syntax error, with the line and column it is on."""
    mark = getattr(exc, "problem_mark", None)
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    if mark is None:
        return FormDefinitionError("form_problem_not_yaml", source=source, problem=problem)
    return FormDefinitionError("form_problem_not_yaml_at", source=source, line=mark.line + 1,
                               column=mark.column + 1, problem=problem)


def _text(raw: Any, source: str, where: str) -> Text:
    if not isinstance(raw, dict):
        raise _fail(source, where, "texts")
    values = {}
    for lang in ("fa", "en"):
        value = raw.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise _fail(source, f"{where}.{lang}", "empty_text")
        values[lang] = value.strip()
    unknown = set(raw) - {"fa", "en"}
    if unknown:
        raise _fail(source, where, "unknown_locales", names=_names(unknown))
    return Text(**values)


def _option(raw: Any, source: str, where: str) -> Option:
    if not isinstance(raw, dict):
        raise _fail(source, where, "option")
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise _fail(source, f"{where}.value", "option_value", value=repr(value))
    return Option(value=value, label=_text(raw.get("label"), source, f"{where}.label"))


def _question(raw: Any, source: str, where: str) -> Question:
    if not isinstance(raw, dict):
        raise _fail(source, where, "question")
    qid = raw.get("id")
    if not isinstance(qid, str) or not QUESTION_ID_PATTERN.fullmatch(qid):
        raise _fail(source, f"{where}.id", "question_id", id=repr(qid))
    where = f"{where} ({qid})"
    kind = raw.get("kind")
    if kind not in QUESTION_KINDS:
        raise _fail(source, f"{where}.kind", "kind", kind=repr(kind), kinds=", ".join(QUESTION_KINDS))
    label = _text(raw.get("label"), source, f"{where}.label")
    options: tuple[Option, ...] = ()
    digits = 0
    if kind in ("single", "multi"):
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise _fail(source, f"{where}.options", "options_missing")
        if len(raw_options) > MAX_OPTIONS:
            raise _fail(source, f"{where}.options", "options_too_many", n=len(raw_options), max=MAX_OPTIONS)
        options = tuple(_option(o, source, f"{where}.options[{i}]") for i, o in enumerate(raw_options))
        values = [o.value for o in options]
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise _fail(source, f"{where}.options", "options_duplicate", values=_names(duplicates))
    elif "options" in raw:
        raise _fail(source, f"{where}.options", "options_not_taken", kind=kind)
    if kind == "digits":
        digits = raw.get("digits")
        if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
            raise _fail(source, f"{where}.digits", "digits", max=MAX_DIGITS)
    columns = raw.get("columns", 0)
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 0:
        raise _fail(source, f"{where}.columns", "whole_number")
    scale = raw.get("scale", False)
    if not isinstance(scale, bool):
        raise _fail(source, f"{where}.scale", "true_false")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise _fail(source, f"{where}.required", "true_false")
    digit_format = raw.get("format", "")
    if "format" in raw and kind != "digits":
        raise _fail(source, f"{where}.format", "format_not_taken", kind=kind)
    if digit_format and digit_format not in DIGIT_FORMATS:
        raise _fail(source, f"{where}.format", "format_unknown",
                    format=repr(digit_format), formats=", ".join(DIGIT_FORMATS))
    if digit_format and digits != DIGIT_FORMATS[digit_format]:
        raise _fail(source, f"{where}.digits", "format_digits",
                    format=digit_format, n=DIGIT_FORMATS[digit_format])
    unknown = set(raw) - {"id", "kind", "label", "options", "digits", "columns", "scale",
                          "required", "format"}
    if unknown:
        raise _fail(source, where, "unknown_fields", names=_names(unknown))
    return Question(id=qid, kind=kind, label=label, options=options, digits=digits or 0,
                    columns=columns, scale=scale, required=required, format=digit_format)


def parse_form(raw: Any, source: str = "<form>") -> Form:
    """Check a parsed YAML document and build a Form, or say precisely what is wrong."""
    if not isinstance(raw, dict):
        raise _fail(source, "top level", "mapping")
    form_id = raw.get("id")
    if not isinstance(form_id, str) or not FORM_ID_PATTERN.fullmatch(form_id):
        raise _fail(source, "id", "form_id", id=repr(form_id))
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(source, "version", "version", value=repr(version))
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise _fail(source, "questions", "questions_missing")
    questions = tuple(_question(q, source, f"questions[{i}]") for i, q in enumerate(raw_questions))
    ids = [q.id for q in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _fail(source, "questions", "questions_duplicate", ids=_names(duplicates))
    unknown = set(raw) - {"id", "version", "title", "intro", "instructions", "questions"}
    if unknown:
        raise _fail(source, "top level", "unknown_fields", names=_names(unknown))
    return Form(
        id=form_id,
        version=version,
        title=_text(raw.get("title"), source, "title"),
        intro=_text(raw.get("intro"), source, "intro"),
        instructions=_text(raw.get("instructions"), source, "instructions"),
        questions=questions,
        source=source,
    )


def load_form_file(path: str | Path) -> Form:
    """Load one definition file; the file name must say the form id and version it holds."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormDefinitionError("form_problem_unreadable", source=source, error=str(exc)) from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(source, exc) from exc
    form = parse_form(raw, source)
    expected = f"{form.id}.v{form.version}"
    if path.name.removesuffix(".yaml").removesuffix(".yml") != expected:
        raise _fail(source, "id/version", "file_name", expected=f"{expected}.yaml")
    return form


class FormCatalog:
    """Every version of every form this installation knows, from one or more folders."""

    def __init__(self, forms: Iterable[Form]):
        self._forms: dict[tuple[str, int], Form] = {}
        for form in forms:
            key = (form.id, form.version)
            if key in self._forms:
                raise _fail(form.source, "id/version", "defined_twice", form=form.id, version=form.version,
                            other=self._forms[key].source)
            self._forms[key] = form

    @classmethod
    def from_folders(cls, *folders: Path) -> "FormCatalog":
        files = []
        for folder in folders:
            if folder.is_dir():
                files.extend(sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))
        return cls(load_form_file(p) for p in files)

    def get(self, form_id: str, version: int | None = None) -> Form:
        """The given version, or the newest one: the newest is what gets printed and shown."""
        if version is not None:
            try:
                return self._forms[(form_id, version)]
            except KeyError:
                known = self.versions(form_id)
                if not known:
                    raise UnknownForm("form_unknown", form=form_id, known="-") from None
                raise UnknownForm("form_version_unknown", form=form_id, version=str(version),
                                  known=", ".join(map(str, known))) from None
        known = self.versions(form_id)
        if not known:
            names = ", ".join(sorted({f for f, _ in self._forms})) or "none"
            raise UnknownForm("form_unknown", form=form_id, known=names)
        return self._forms[(form_id, known[-1])]

    def versions(self, form_id: str) -> list[int]:
        return sorted(v for f, v in self._forms if f == form_id)

    def __iter__(self):
        return iter(sorted(self._forms.values(), key=lambda f: (f.id, f.version)))


@dataclass(frozen=True)
class QuestionChange:
    """One question that differs between two versions of a form (the draft page's diff)."""

    id: str
    #: "added", "removed" or "changed"
    change: str
    before: Question | None
    after: Question | None
    #: For "changed": which of kind, label, options, digits, format, columns, scale, required,
    #: position differ.
    fields: tuple[str, ...] = ()


_COMPARED = ("kind", "label", "options", "digits", "format", "columns", "scale", "required")


def question_changes(before: Form | None, after: Form) -> list[QuestionChange]:
    """The questions ``after`` adds, removes or changes against ``before`` (None: all added),
    in ``after``'s order with the removed ones last.  A scanner reads each version with its
    own layout, so any change is allowed; this is for the person about to publish it."""
    old = {q.id: q for q in before.questions} if before else {}
    new_ids = {q.id for q in after.questions}
    # a question moved when its place among the questions both versions share changed
    kept_before = [q.id for q in before.questions if q.id in new_ids] if before else []
    kept_after = [q.id for q in after.questions if q.id in old]
    changes = []
    for question in after.questions:
        was = old.get(question.id)
        if was is None:
            changes.append(QuestionChange(question.id, "added", None, question))
            continue
        fields = tuple(name for name in _COMPARED if getattr(was, name) != getattr(question, name))
        if kept_before.index(question.id) != kept_after.index(question.id):
            fields += ("position",)
        if fields:
            changes.append(QuestionChange(question.id, "changed", was, question, fields))
    changes += [QuestionChange(q.id, "removed", q, None) for q in old.values() if q.id not in new_ids]
    return changes


def builtin_definitions_folder() -> Path:
    return Path(str(resources.files("forms.definitions")))


@cache
def builtin_catalog() -> FormCatalog:
    """The forms shipped with Seda; loaded once, as they never change while running."""
    return FormCatalog.from_folders(builtin_definitions_folder())
