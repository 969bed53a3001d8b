"""Message catalogues: every sentence Seda shows or prints lives in a Babel ``.po`` file.

A translator edits ``<package>/translations/<locale>/LC_MESSAGES/messages.po`` (Persian ``fa``
first, English ``en`` second), never Python.  Message ids are symbolic keys (``survey_title``);
each locale's ``msgstr`` holds the sentence, with ``{name}`` placeholders (Python brace format)
for the values the code fills in.

The ``.po`` files are read and compiled in memory the first time a package asks for its words,
so there is no generated ``.mo`` file to forget: edit, restart, done.  ``scripts/catalogues.py
check`` (and the test suite) say what is missing, empty or inconsistent.

Whole numbers among the values are written in the locale's digits (Persian digits with the
Persian thousands separator in ``fa``), so a sentence never mixes scripts.
"""
from __future__ import annotations

import io
import re
import threading
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from .digits import PERSIAN_THOUSANDS_SEPARATOR, to_persian_digits

__all__ = ["DEFAULT_LOCALE", "LOCALES", "MessageError", "Messages", "catalogue_path", "fill", "localize_number",
           "messages_for", "placeholders", "read_catalog", "reason"]

#: Every locale Seda ships, the default first.
LOCALES = ("fa", "en")
DEFAULT_LOCALE = "fa"
DOMAIN = "messages"

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^}]*)?\}")


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders a sentence uses (both locales must use the same ones)."""
    return set(_PLACEHOLDER.findall(text))


def localize_number(value: int | str, locale: str, grouping: bool = False) -> str:
    """Persian digits in Persian (grouping with the Persian thousands separator ٬)."""
    text = f"{value:,}" if grouping and isinstance(value, int) else str(value)
    if locale == "fa":
        return to_persian_digits(text.replace(",", PERSIAN_THOUSANDS_SEPARATOR))
    return text


def catalogue_path(directory: Path, locale: str) -> Path:
    """Where one locale's ``.po`` lives under a package's ``translations`` folder."""
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, locale: str) -> Catalog:
    """One ``.po`` file as a Babel catalogue."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


class Messages:
    """One package's catalogues (``<package>/translations``), compiled once per process."""

    def __init__(self, directory: Path, group_thousands: bool = False) -> None:
        self.directory = Path(directory)
        self.group_thousands = group_thousands
        self._lock = threading.Lock()
        self._compiled: dict[str, Translations] = {}

    def translations(self, locale: str) -> Translations:
        """The gettext object for ``locale`` (an unknown locale gets the default's)."""
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        found = self._compiled.get(locale)
        if found is None:
            with self._lock:
                found = self._compiled.get(locale)
                if found is None:
                    buffer = io.BytesIO()
                    write_mo(buffer, read_catalog(catalogue_path(self.directory, locale), locale))
                    buffer.seek(0)
                    found = self._compiled[locale] = Translations(buffer, domain=DOMAIN)
        return found

    def text(self, key: str, locale: str, /, **values: object) -> str:
        """The sentence for ``key`` in ``locale``, its placeholders filled (a value may be a
        function of the locale, such as a status's label, when the words differ by language).

        A key missing from a locale falls back to Persian, then to the key itself, so a
        forgotten translation shows something readable instead of breaking a screen; the test
        suite makes sure no shipped key is missing.
        """
        text = self.translations(locale).gettext(key)
        if text == key and locale != DEFAULT_LOCALE:
            text = self.translations(DEFAULT_LOCALE).gettext(key)
        values = {k: v(locale) if callable(v) else v for k, v in values.items()}
        return fill(text, locale, self.group_thousands, **values)

    def both(self, key: str, /, **values: object) -> tuple[str, str]:
        """``key`` in Persian and in English, for errors that carry both sentences
        (``InvalidInput``, ``FieldError``, ``CentralError``): a person sees one, logs and API
        clients the other."""
        return self.text(key, "fa", **values), self.text(key, "en", **values)

    def line(self, key: str, /, separator: str = " / ", **values: object) -> str:
        """Persian, then English, on one line (or two, with ``separator="\\n"``): how the
        command line says what an operator must act on."""
        return separator.join(self.both(key, **values))

    def has(self, key: str, locale: str) -> bool:
        return key in self.translations(locale)._catalog  # noqa: SLF001 (gettext's own table)

    def keys(self, locale: str = DEFAULT_LOCALE) -> set[str]:
        return {k for k in self.translations(locale)._catalog if isinstance(k, str) and k}  # noqa: SLF001


class MessageError(Exception):
    """An error said in the catalogue's words: a key and its values, rendered in whichever
    locale the reader asks for (the kiosk and web pages show one, the command line prints
    Persian then English with :meth:`line`, JSON answers carry ``message_fa``/``message_en``).

    Subclasses name their package's catalogue in :attr:`catalogue`; ``catalogue=`` overrides it
    for a key of another package (the kiosk raising :class:`forms.persian.InvalidInput`).
    """

    #: The package whose ``translations`` hold this error's keys.
    catalogue = "forms"

    def __init__(self, key: str, /, *, catalogue: str | None = None, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
        if catalogue is not None:
            self.catalogue = catalogue

    @classmethod
    def passing_on(cls, error: MessageError) -> MessageError:
        """``error``'s sentence, raised as this class (a lower layer's refusal handed up as
        the error the layer above handles, with nothing lost)."""
        return cls(error.key, catalogue=error.catalogue, **error.values)

    def text(self, locale: str) -> str:
        return messages_for(self.catalogue).text(self.key, locale, **self.values)

    @property
    def message_fa(self) -> str:
        return self.text("fa")

    @property
    def message_en(self) -> str:
        return self.text("en")

    def line(self) -> str:
        """Persian, then English, on one line: what the command line prints."""
        return f"{self.message_fa} / {self.message_en}"

    def __str__(self) -> str:
        return self.message_en


def reason(error: BaseException) -> object:
    """An error as a value for another sentence's ``{error}``: a catalogued error in the
    sentence's own locale (a function of the locale), any other in its own words."""
    if isinstance(error, MessageError):
        return error.text
    return " ".join(str(error).split()) or error.__class__.__name__


def fill(text: str, locale: str, group_thousands: bool = False, /, **values: object) -> str:
    """``text.format(**values)`` with whole numbers in the locale's digits."""
    if not values:
        return text
    return text.format(**{k: localize_number(v, locale, group_thousands)
                          if isinstance(v, int) and not isinstance(v, bool) else v
                          for k, v in values.items()})


_REGISTRY: dict[str, Messages] = {}
_REGISTRY_LOCK = threading.Lock()


def messages_for(package: str, group_thousands: bool = False) -> Messages:
    """The catalogues shipped in ``<package>/translations`` (one :class:`Messages` per package;
    ``group_thousands`` writes whole numbers as ``۱٬۲۳۴`` rather than ``۱۲۳۴``)."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(package)
        if found is None:
            directory = Path(str(resources.files(package) / "translations"))
            found = _REGISTRY[package] = Messages(directory, group_thousands)
        return found
