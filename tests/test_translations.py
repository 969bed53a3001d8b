"""The message catalogues: every package's .po files are complete, consistent and used.

Each package that shows or prints sentences keeps them in
``<package>/translations/<locale>/LC_MESSAGES/messages.po`` (docs/translating.md).  These tests
read the files the way a translator leaves them, and read the code for the keys it asks for.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from forms.messages import LOCALES, catalogue_path, placeholders, read_catalog

ROOT = Path(__file__).resolve().parent.parent
#: Every package with its own catalogues.
PACKAGES = ("kiosk", "central", "forms", "scanner", "sync", "seda")
#: Packages with web pages (templates and views that ask for keys by name).
WEB_PACKAGES = ("kiosk", "central")
#: Bilingual tables that are content, not UI text: file -> why.
CONTENT_TABLES = {
    "central/demo_seed.py": "the demo's unit names, stored as data an administrator would type",
}
#: Project packages whose Python is read for keys and for stray string tables.
SOURCE_PACKAGES = ("forms", "ledger", "scanner", "kiosk", "sync", "central", "seda")

PERSIAN = re.compile(r"[\u0600-\u06FF]")


def _catalogues() -> list[tuple[str, str]]:
    return [(package, locale) for package in PACKAGES for locale in LOCALES]


def _entries(package: str, locale: str) -> dict[str, str]:
    catalog = read_catalog(catalogue_path(ROOT / package / "translations", locale), locale)
    return {message.id: message.string for message in catalog if message.id}


def _fuzzy(package: str, locale: str) -> list[str]:
    catalog = read_catalog(catalogue_path(ROOT / package / "translations", locale), locale)
    return [message.id for message in catalog if message.id and message.fuzzy]


@pytest.mark.parametrize(("package", "locale"), _catalogues())
def test_each_package_ships_a_catalogue_per_locale(package: str, locale: str) -> None:
    assert catalogue_path(ROOT / package / "translations", locale).is_file()


@pytest.mark.parametrize("package", PACKAGES)
def test_persian_and_english_have_the_same_keys(package: str) -> None:
    fa, en = _entries(package, "fa"), _entries(package, "en")
    assert sorted(set(fa) - set(en)) == [], "in Persian only"
    assert sorted(set(en) - set(fa)) == [], "in English only"


@pytest.mark.parametrize(("package", "locale"), _catalogues())
def test_no_sentence_is_left_untranslated(package: str, locale: str) -> None:
    entries = _entries(package, locale)
    assert [key for key, text in entries.items() if not text.strip()] == []
    assert _fuzzy(package, locale) == [], "fuzzy entries are not used until a translator clears the flag"


@pytest.mark.parametrize("package", PACKAGES)
def test_placeholders_agree_between_persian_and_english(package: str) -> None:
    fa, en = _entries(package, "fa"), _entries(package, "en")
    differ = {key: (sorted(placeholders(fa[key])), sorted(placeholders(en[key])))
              for key in fa.keys() & en.keys() if placeholders(fa[key]) != placeholders(en[key])}
    assert differ == {}


def _latin_digits_shown(text: str) -> list[str]:
    """Latin digits a Persian reader would see: not in ``{placeholders}``, `commands`, or Latin
    technical names such as SHA-256."""
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"[A-Za-z][A-Za-z0-9._/:-]*", "", text)
    return re.findall(r"[0-9]+", text)


@pytest.mark.parametrize("package", PACKAGES)
def test_persian_sentences_show_persian_digits(package: str) -> None:
    latin = {key: _latin_digits_shown(text) for key, text in _entries(package, "fa").items()
             if _latin_digits_shown(text)}
    assert latin == {}


def test_the_digit_check_catches_a_latin_number_in_persian() -> None:
    assert _latin_digits_shown("حداکثر 4000 نویسه") == ["4000"]
    assert _latin_digits_shown("چکیدهٔ SHA-256 و {n} و `seda central key`") == []


# -- keys the code asks for ----------------------------------------------------------------

#: Functions whose first argument is a catalogue key.
_KEY_FUNCTIONS = {"t", "_", "translate", "both", "flash_ok", "_t"}
_TEMPLATE_KEY = re.compile(r"""\bt\(\s*['"]([A-Za-z0-9_]+)['"]\s*[,)]""")
_TEMPLATE_TITLE_KEY = re.compile(r"""title_key\s*=\s*['"]([A-Za-z0-9_]+)['"]""")


def _python_keys(package: str) -> dict[str, set[str]]:
    """key -> files, for every literal key passed to a translating function in ``package``."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else None
            first = node.args[0]
            if name in _KEY_FUNCTIONS and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and re.fullmatch(r"[a-z][a-z0-9_]*", first.value):
                found.setdefault(first.value, set()).add(str(path.relative_to(ROOT)))
    return found


def _template_keys(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for key in _TEMPLATE_KEY.findall(text) + _TEMPLATE_TITLE_KEY.findall(text):
            found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", WEB_PACKAGES)
def test_every_key_in_the_templates_is_in_both_catalogues(package: str) -> None:
    used = _template_keys(package)
    assert used, "the test reads the templates"
    for locale in LOCALES:
        entries = _entries(package, locale)
        assert {key: files for key, files in used.items() if key not in entries} == {}, locale


@pytest.mark.parametrize("package", WEB_PACKAGES)
def test_every_key_in_the_python_is_in_both_catalogues(package: str) -> None:
    used = _python_keys(package)
    assert used, "the test reads the code"
    for locale in LOCALES:
        entries = _entries(package, locale)
        assert {key: files for key, files in used.items() if key not in entries} == {}, locale


# -- no sentences outside the catalogues ---------------------------------------------------

def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _persian(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(PERSIAN.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_persian(part) for part in node.values)
    return False


def ui_string_tables(source: str) -> list[int]:
    """Lines where Python spells out bilingual UI text instead of asking a catalogue:
    ``{"fa": "...", "en": "..."}``, ``{"fa": {key: text}}`` tables, ``register({...})``, and
    tables whose values are (Persian, English) pairs."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"fa", "en"} <= keys:
                persian = next(v for k, v in zip(node.keys, node.values)
                               if isinstance(k, ast.Constant) and k.value == "fa")
                if _persian(persian) or isinstance(persian, (ast.Dict, ast.DictComp)):
                    lines.append(node.lineno)
                    continue
            pairs = [v for v in node.values if isinstance(v, ast.Tuple) and len(v.elts) == 2
                     and _persian(v.elts[0]) and _is_text(v.elts[1]) and not _persian(v.elts[1])]
            if len(pairs) >= 2:
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "register" \
                and node.args and isinstance(node.args[0], ast.Dict):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_table_check_finds_each_spelling() -> None:
    assert ui_string_tables('X = {"fa": "سلام", "en": "Hello"}') == [1]
    assert ui_string_tables('register({"fa": {"k": "سلام"}, "en": {"k": "Hello"}})') == [1]
    assert ui_string_tables('R = {"a": ("یک", "one"), "b": ("دو", "two")}') == [1]
    assert ui_string_tables('names = {"fa": row.fa, "en": row.en}') == []  # content, not UI text
    assert ui_string_tables('VOICES = {"fa": "fa", "en": "en"}') == []  # locale codes, not text


def test_no_bilingual_string_table_outside_the_catalogues() -> None:
    found = {}
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = ui_string_tables(path.read_text(encoding="utf-8"))
            if lines and str(path.relative_to(ROOT)) not in CONTENT_TABLES:
                found[str(path.relative_to(ROOT))] = lines
    assert found == {}, "put UI sentences in <package>/translations/*/LC_MESSAGES/messages.po (docs/translating.md)"


def _tiny_catalogues(folder: Path, fa: str, en: str) -> Path:
    for locale, text in (("fa", fa), ("en", en)):
        path = catalogue_path(folder, locale)
        path.parent.mkdir(parents=True)
        path.write_text(f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                        f'msgid "greeting"\nmsgstr "{text}"\n', encoding="utf-8")
    return folder


def test_a_placeholder_may_share_a_name_with_the_helpers_own_arguments(tmp_path: Path) -> None:
    from forms.messages import Messages

    messages = Messages(_tiny_catalogues(tmp_path, "کلید {key} در {locale}", "key {key} in {locale}"))
    assert messages.both("greeting", key="ab", locale="x") == ("کلید ab در x", "key ab in x")
    assert messages.line("greeting", key="ab", locale="x") == "کلید ab در x / key ab in x"


def test_whole_numbers_are_written_in_the_locales_digits(tmp_path: Path) -> None:
    from forms.messages import Messages

    messages = Messages(_tiny_catalogues(tmp_path, "{n} مورد", "{n} items"), group_thousands=True)
    assert messages.both("greeting", n=12345) == ("۱۲٬۳۴۵ مورد", "12,345 items")


def test_a_key_missing_from_english_falls_back_to_persian_then_to_the_key(tmp_path: Path) -> None:
    from forms.messages import Messages

    folder = _tiny_catalogues(tmp_path, "سلام", "hello")
    path = catalogue_path(folder, "en")
    path.write_text(path.read_text(encoding="utf-8").replace('msgid "greeting"\nmsgstr "hello"\n', ""),
                    encoding="utf-8")
    messages = Messages(folder)
    assert messages.text("greeting", "en") == "سلام"
    assert messages.text("nowhere", "en") == "nowhere"


#: Modules that speak to operators and used to spell their own Persian/English pairs: every
#: sentence of theirs now comes from a catalogue (issue #12, "one bilingual text system").
SPEAKING_MODULES = ("forms/cli.py", "ledger/cli.py", "ledger/issuance.py",
                    "scanner/cli.py", "kiosk/cli.py", "kiosk/accounts.py", "central/cli.py",
                    "central/casework.py", "central/accounts.py", "central/grants.py",
                    "central/answer_templates.py", "central/store_location.py", "central/errors.py",
                    "forms/sheet_code.py", "forms/definition.py",
                    "sync/cli.py", "sync/trust.py", "sync/transport.py", "sync/client.py", "sync/offline.py",
                    "ledger/sync_settings.py", "forms/signatures.py", "forms/identity_keys.py",
                    "forms/layout.py", "central/notify/cli.py", "central/portal/cli.py",
                    "central/portal/settings.py", "ledger/ledger.py", "central/exports.py",
                    "central/store.py", "central/ingest.py", "kiosk/config.py", "forms/portal_address.py",
                    "central/form_versions.py", "central/web/form_pages.py", "ledger/published_content.py",
                    "central/report.py", "central/service_catalogue.py", "central/office_register.py",
                    "central/web/catalogue_pages.py", "central/web/charts.py",
                    "seda/doctor.py", "seda/office.py", "seda/backup.py",
                    "central/notify/messages.py", "central/verdicts.py", "forms/workdays.py",
                    "forms/office_identity.py", "forms/paper.py", "forms/messages.py",
                    "scanner/watch.py", "kiosk/read_aloud.py", "kiosk/receipt_printer.py",
                    "kiosk/review_words.py", "kiosk/staff.py", "kiosk/tools/make_audio.py",
                    "central/portal_intake.py")
# Persian left in Python on purpose (data, not UI text): digit and letter tables and
# normalisation maps (forms/digits.py, forms/persian.py, central/analysis.py,
# central/duplicates.py), words and patterns matched in input (ledger/review_queue.py
# BLANK_WORDS, kiosk/survey_flow.py _NUMBERING), demo seed data (seda/demo.py,
# central/demo_seed.py) and the units seeded by central/db/schema.py.


def _persian_literals(source: str) -> list[int]:
    """Lines of string literals holding Persian letters (docstrings and comments aside)."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return sorted({node.lineno for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and isinstance(node.value, str)
                   and id(node) not in docstrings and PERSIAN.search(node.value)})


def test_the_persian_literal_check_sees_a_sentence_but_not_a_docstring() -> None:
    assert _persian_literals('"""سند"""\nX = "سلام"\n') == [2]


@pytest.mark.parametrize("module", SPEAKING_MODULES)
def test_operator_messages_come_from_the_catalogues(module: str) -> None:
    assert _persian_literals((ROOT / module).read_text(encoding="utf-8")) == []
