"""Flask-Babel for the two web apps, fed from a package's ``.po`` catalogues.

Flask-Babel picks each request's locale (the app says how: the kiosk from the visit, the central
office from the person's language cookie) and hands out that locale's gettext object; the gettext
object is the one :mod:`forms.messages` compiled from ``<package>/translations``.  Templates keep
calling ``t('key', **values)``, which reads through here, and Jinja's ``_()`` / ``gettext()`` work
too (the msgid is the key).
"""
from __future__ import annotations

from collections.abc import Callable

from babel.support import Translations
from flask import Flask, g, has_app_context
from flask_babel import Babel, Domain, get_locale

from .messages import DEFAULT_LOCALE, LOCALES, Messages

__all__ = ["CatalogueDomain", "current_locale", "install_messages", "translate_here"]


class CatalogueDomain(Domain):
    """A Flask-Babel domain whose translations are one package's compiled ``.po`` files."""

    def __init__(self, messages: Messages) -> None:
        super().__init__(domain="messages")
        self.messages = messages

    def get_translations(self) -> Translations:
        return self.messages.translations(current_locale())


def install_messages(app: Flask, messages: Messages, locale_selector: Callable[[], str | None]) -> Babel:
    """Give ``app`` Flask-Babel with ``messages`` as its only domain.

    Flask-Babel's own date and number filters are not installed: Seda shows Jalali dates and
    Persian digits through its own filters (``jdate``/``jalali``, ``num``/``fa_digits``).
    """
    babel = Babel(app, locale_selector=locale_selector, default_locale=DEFAULT_LOCALE,
                  default_timezone="Asia/Tehran", configure_jinja=False)
    babel.domain_instance = CatalogueDomain(messages)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda key: messages.text(key, current_locale()),
        ngettext=lambda one, many, n: messages.translations(current_locale()).ngettext(one, many, n),
        newstyle=True)
    return babel


def current_locale() -> str:
    """This request's locale as Flask-Babel chose it (the default outside a request).

    Kept on ``g`` once chosen, as Flask-Babel keeps its own: a page asks for it once per
    sentence (``t()``), and Flask-Babel's way to it was a third of a portal page's time."""
    if has_app_context():
        name = g.get(_CHOSEN)
        if name is not None:
            return name
    locale = get_locale()
    name = str(locale) if locale is not None else DEFAULT_LOCALE
    name = name if name in LOCALES else DEFAULT_LOCALE
    if locale is not None and has_app_context():
        setattr(g, _CHOSEN, name)
    return name


_CHOSEN = "_seda_locale"


def translate_here(messages: Messages, key: str, **values: object) -> str:
    """``key`` in this request's locale (what the templates' ``t()`` calls)."""
    return messages.text(key, current_locale(), **values)
