"""The offices page: every office's health at a glance, for the administrator.

Last contact, last batch, records received here, what the office says is waiting, refused
and stranded there, its clock offset, its key, its software version and when its kiosk was
last alive, and its last refusal.  Offices silent for more than a working day come first and
stand out (central/office_health.py decides "quiet").  Counts and times only: nothing a
citizen wrote is on this page, so viewing it is not audited as a view of personal data.
"""
from __future__ import annotations

from flask import Blueprint, render_template

from forms.workdays import TEHRAN
from ..casework import Casework
from ..office_health import office_health
from . import auth
from .i18n import register

__all__ = ["blueprint"]

#: A clock further off than this is shown as a problem (batches are refused at 24 hours).
CLOCK_WARN_SECONDS = 300


def blueprint() -> Blueprint:
    bp = Blueprint("offices", __name__, url_prefix="/offices")
    bp.add_url_rule("/", "page", auth.require("admin")(page))
    return bp


def page() -> str:
    store = auth.store()
    now = auth.now()
    rows = office_health(store, Casework(store).calendar(now.astimezone(TEHRAN).date()), now)
    return render_template("central/offices.html", rows=rows, quiet=sum(r.quiet for r in rows),
                           clock_warn=CLOCK_WARN_SECONDS)


register({
    "fa": {
        "nav_offices": "دفترها",
        "offices_title": "وضعیت دفترها",
        "offices_intro": "آخرین تماس هر دفتر، آنچه گفته در دفتر منتظر یا ردشده مانده، ساعت رایانه‌اش و کلیدش. دفترهایی که بیش از یک روز کاری خبری از آن‌ها نرسیده بالای فهرست‌اند.",
        "offices_quiet_count": "{n} دفتر بیش از یک روز کاری خاموش مانده است.",
        "offices_empty": "هنوز دفتری ثبت نشده است (seda central office add).",
        "offices_office": "دفتر",
        "offices_last_contact": "آخرین تماس",
        "offices_never": "هرگز",
        "offices_quiet": "خاموش",
        "offices_last_batch": "آخرین بسته",
        "offices_records": "رکوردهای رسیده",
        "offices_waiting": "منتظر در دفتر",
        "offices_refused": "بسته‌های ردشده",
        "offices_stranded": "رکورد با کد دفتر دیگر",
        "offices_clock": "اختلاف ساعت",
        "offices_seconds": "{n} ثانیه",
        "offices_key": "کلید",
        "offices_key_active": "فعال",
        "offices_key_revoked": "باطل‌شده",
        "offices_version": "نسخه",
        "offices_kiosk": "آخرین نشانه‌ی کیوسک",
        "offices_last_refusal": "آخرین رد",
        "offices_refusals_7d": "{n} رد در ۷ روز",
        "offices_unreported": "گزارش نداده",
    },
    "en": {
        "nav_offices": "Offices",
        "offices_title": "Offices' health",
        "offices_intro": "Each office's last contact, what it says is waiting or refused there, its clock and its key. Offices silent for more than a working day are listed first.",
        "offices_quiet_count": "{n} office(s) silent for more than a working day.",
        "offices_empty": "No office is registered yet (seda central office add).",
        "offices_office": "Office",
        "offices_last_contact": "Last contact",
        "offices_never": "never",
        "offices_quiet": "quiet",
        "offices_last_batch": "Last batch",
        "offices_records": "Records received",
        "offices_waiting": "Waiting at the office",
        "offices_refused": "Refused batches",
        "offices_stranded": "Under another office code",
        "offices_clock": "Clock offset",
        "offices_seconds": "{n} s",
        "offices_key": "Key",
        "offices_key_active": "active",
        "offices_key_revoked": "revoked",
        "offices_version": "Version",
        "offices_kiosk": "Kiosk last alive",
        "offices_last_refusal": "Last refusal",
        "offices_refusals_7d": "{n} refusal(s) in 7 days",
        "offices_unreported": "not reported",
    },
})
