"""This office's sync settings: one small, commented file, ``$SEDA_HOME/sync.toml``.

An office admin writes it with ``seda sync setup --office THR-012 --central https://...`` and
can read (or fix) it in Notepad::

    # Seda sync settings for this office (written by `seda sync setup`).
    office = "THR-012"
    central_url = "https://seda.example.ir"
    ...

TOML because Python reads it without extra packages (``tomllib``) and people can edit it.
It sits with the office's own state (not in sync/) because the kiosk reads it too: the pinned
central key decides which key misconduct reports are sealed to (ledger/report_key.py).
"""
from __future__ import annotations

import ipaddress
import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlparse

from forms import validate_office_code
from forms.office_identity import OfficeIdentityError, check_same_office
from forms.private_files import write_private
from forms.signatures import IdentityError, parse_public_key

__all__ = ["SettingsError", "SyncSettings", "load_settings", "settings_path", "write_settings"]


class SettingsError(Exception):
    """Settings are missing or wrong; the message says what to run (Persian, then English)."""


@dataclass(frozen=True)
class SyncSettings:
    office: str
    #: "" for an office with no network at all: it syncs only by USB export.
    central_url: str
    #: Records per batch: big enough for throughput, small enough for a slow link.
    batch_records: int = 1000
    #: Seconds between syncs when everything is delivered.
    interval_seconds: float = 60.0
    #: Longest wait after failures (exponential backoff with jitter grows up to this).
    max_backoff_seconds: float = 900.0
    #: Seconds one HTTP request may take before the client gives up and retries later.
    timeout_seconds: float = 60.0
    #: The central server's public key (`seda central key`), pinned at `seda sync setup` or on
    #: first contact: every acknowledgement, pulled page and the oversight key must be signed
    #: with it (sync/trust.py pins it; ledger/report_key.py seals to it).  "" = not pinned yet.
    central_key: str = ""
    #: Allow a plain http:// central URL that is not this machine (answers are still signed,
    #: but what is sent can be read on the way).  Only with `seda sync setup --insecure-http`.
    insecure_http: bool = False

    def __post_init__(self) -> None:
        try:
            validate_office_code(self.office)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        parsed = urlparse(self.central_url)
        if self.central_url and (parsed.scheme not in ("http", "https") or not parsed.netloc):
            raise SettingsError(
                f"نشانی سرور مرکزی باید با http:// یا https:// شروع شود / "
                f"the central URL must start with http:// or https:// (got {self.central_url!r})")
        if parsed.scheme == "http" and not self.insecure_http and not is_loopback(parsed.hostname):
            raise SettingsError(
                "نشانی سرور مرکزی باید https:// باشد؛ با http:// هر کس در مسیر شبکه آنچه فرستاده "
                "می‌شود را می‌بیند. اگر ناگزیرید، `--insecure-http` را بیفزایید. / "
                f"The central URL must be https:// ({self.central_url!r} is plain http to another "
                "machine, readable by anyone on the way); add --insecure-http only if you must.")
        if self.central_key:
            try:
                parse_public_key(self.central_key)
            except IdentityError as exc:
                raise SettingsError(f"central_key: {exc}") from None
        if not isinstance(self.insecure_http, bool):
            raise SettingsError("insecure_http must be true or false")
        if (self.batch_records < 1 or self.interval_seconds <= 0 or self.max_backoff_seconds <= 0
                or self.timeout_seconds <= 0):
            raise SettingsError("batch_records, interval_seconds, max_backoff_seconds and "
                                "timeout_seconds must be positive")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (plain http to it never crosses a network)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_path(home: Path) -> Path:
    return Path(home) / "sync.toml"


def load_settings(home: Path) -> SyncSettings:
    """The office's settings, or a SettingsError telling the admin to run ``seda sync setup``."""
    path = settings_path(home)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            "همگام‌سازی هنوز تنظیم نشده است؛ دستور `seda sync setup --office CODE --central URL` را اجرا کنید. / "
            f"Sync is not set up yet ({path} is missing); run `seda sync setup --office CODE --central URL`."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    known = {f.name for f in fields(SyncSettings)}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(f"{path}: unknown settings {sorted(unknown)}")
    try:
        settings = SyncSettings(**data)
    except TypeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    try:  # sync sends what the office's other parts write: one office code for all of them
        check_same_office(home, settings.office, f"office in {path}")
    except OfficeIdentityError as exc:
        raise SettingsError(str(exc)) from None
    return settings


def write_settings(home: Path, settings: SyncSettings) -> Path:
    """Write the settings file atomically (a half-written file would stop sync)."""
    path = settings_path(home)
    lines = ["# Seda sync settings for this office (written by `seda sync setup`; safe to edit).",
             "# تنظیمات همگام‌سازی این دفتر"]
    comments = {
        "office": "Office code, as registered at the central server",
        "central_url": "Address of the central server",
        "batch_records": "Records per batch",
        "interval_seconds": "Seconds between syncs when all is delivered",
        "max_backoff_seconds": "Longest wait between retries while the server is unreachable",
        "timeout_seconds": "Seconds one request may take",
        "central_key": "Central server's public key: answers, acknowledgements and the oversight key must be signed with it",
        "insecure_http": "Allow a plain http:// central server on another machine (not recommended)",
    }
    for name, value in asdict(settings).items():
        lines.append(f"# {comments[name]}")
        lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")
    return write_private(path, "\n".join(lines) + "\n")
