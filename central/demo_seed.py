"""The central office of ``seda demo``: units, routing rules and one person in every role.

Kept apart from the office side of the demo (seda/demo.py) because it is the central
server's business: a real installation creates the same things with ``seda central unit add``,
``seda central user add`` and the administrator's pages.
"""
from __future__ import annotations

import secrets

from .casework import Casework
from .store import Store
from .accounts import add_user, get_user

__all__ = ["DEMO_UNITS", "DEMO_USERS", "seed_central_demo"]

#: code -> (Persian name, English name)
DEMO_UNITS = {
    "cards": ("واحد صدور کارت هوشمند ملی", "Smart ID card unit"),
    "civil": ("اداره‌ی ثبت ولادت و اسناد هویتی", "Births and identity documents"),
    "public": ("روابط عمومی و دفتر مدیر کل", "Public relations and the director's office"),
}
#: user -> (role, unit, Persian display name); heads are the first member of each unit.
DEMO_USERS = {
    "admin": ("admin", None, "مدیر سامانه"),
    "cards.head": ("responder", "cards", "زهرا موسوی (مدیر واحد کارت)"),
    "cards.sara": ("responder", "cards", "سارا رحیمی"),
    "civil.head": ("responder", "civil", "حمید نوری (مدیر اداره‌ی اسناد)"),
    "public.head": ("responder", "public", "لیلا کاظمی (روابط عمومی)"),
    "analyst": ("analyst", None, "کارشناس تحلیل"),
    "auditor": ("auditor", None, "حسابرس"),
    "oversight": ("oversight", None, "کارشناس حراست"),
}
_RULES = (
    {"service": "smart_id_card", "unit": "cards"},
    {"service": "birth_registration", "unit": "civil"},
    {"service": "record_correction", "unit": "civil"},
    {"service": "duplicate_birth_certificate", "unit": "civil"},
    {"case_type": "suggestion", "unit": "public"},
    {"case_type": "criticism", "unit": "public"},
)


def seed_central_demo(store: Store, passwords: dict[str, str] | None = None) -> dict[str, str]:
    """Create the demo units, rules and users unless they exist; returns each new user's
    password (empty when nothing was created).

    Every user gets a password of their own (``passwords`` may fix some, e.g. in tests; the
    rest are drawn at random), so one leaked demo password opens one role, not all of them.
    """
    if get_user(store, "admin", include_disabled=True) is not None:
        return {}
    casework = Casework(store)
    for code, (name_fa, name_en) in DEMO_UNITS.items():
        casework.save_unit(code, name_fa, name_en, actor="demo")
    for rule in _RULES:
        casework.add_rule(**rule, actor="demo")
    chosen = {name: (passwords or {}).get(name) or secrets.token_urlsafe(12) for name in DEMO_USERS}
    for name, (role, unit, display) in DEMO_USERS.items():
        add_user(store, name, role, chosen[name], unit=unit, display_name=display)
    for code in DEMO_UNITS:
        name_fa, name_en = DEMO_UNITS[code]
        casework.save_unit(code, name_fa, name_en, head=f"{code}.head", actor="demo")
    return chosen
