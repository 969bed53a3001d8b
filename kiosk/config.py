"""Kiosk settings: one frozen object, read once from ``$SEDA_HOME/kiosk.yaml``.

Configuration lives in one place (the architecture's rule) and is immutable once the app
starts, so a request can never see half-changed settings.  Every key has a default that
works for a demo; an office edits only what differs, e.g.::

    # $SEDA_HOME/kiosk.yaml
    office: LOR-01
    kiosk_id: entrance-1
    idle_seconds: 60
"""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forms import seda_home, validate_office_code
from forms.messages import MessageError, reason
from forms.office_identity import OfficeIdentityError, check_same_office, read_office
from forms.catalogue import builtin_data_folder
from forms.portal_address import PortalAddressError, check_portal_url
from forms.private_files import open_private

__all__ = ["KioskConfig", "ConfigError", "CONFIG_FILE"]

CONFIG_FILE = "kiosk.yaml"


class ConfigError(MessageError, ValueError):
    """kiosk.yaml is unreadable or names a setting with a wrong value; says which
    (kiosk/translations ``config_*``)."""

    catalogue = "kiosk"


@dataclass(frozen=True)
class KioskConfig:
    """Everything the kiosk app needs to know about the office it runs in."""

    home: Path
    office: str = "DEMO-01"
    kiosk_id: str = "kiosk-1"
    #: Seconds without a touch before the countdown starts ...
    idle_seconds: int = 60
    #: ... and how long the countdown lasts before everything is wiped.
    countdown_seconds: int = 10
    #: Flood limits: cases one visit may file, and cases the whole kiosk accepts a minute.
    max_cases_per_visit: int = 5
    max_cases_per_minute: int = 20
    #: Follow-up, per visit: wrong codes allowed before each try has to wait (doubling, capped).
    follow_up_free_tries: int = 3
    follow_up_max_delay: int = 300
    #: Follow-up, whole kiosk: wrong codes an hour from all visits together (0 = no ceiling).
    #: Beyond it a wrong try waits for the next of the hour's allowance (36 s at 100), never
    #: longer: one person can slow the kiosk down, not lock it.
    follow_up_kiosk_wrong_per_hour: int = 100
    #: Longest voice message, in seconds, and the biggest upload accepted for it.
    voice_max_seconds: int = 120
    voice_max_bytes: int = 4 * 1024 * 1024
    #: Scan uploads on the staff pages: uploads that may wait while one is read, and the most
    #: pages and seconds one upload may take (kiosk/scan_queue.py).
    scan_queue_size: int = 3
    scan_max_pages: int = 50
    scan_max_seconds: int = 120
    #: The 80 mm ESC/POS receipt printer (kiosk/receipt_printer.py), e.g. usb:04b8:0202 or
    #: network:192.168.1.50; "" prints the receipt page through the browser.
    receipt_printer: str = ""
    #: Form shown by the kiosk survey and printed by staff.
    survey_form: str = "satisfaction"
    #: YAML files with the contact directory and service catalogue (defaults: demo data).
    directory_file: Path | None = None
    services_file: Path | None = None
    #: The citizens' portal of the central office (``seda central portal serve --public-url``),
    #: e.g. https://portal.example.ir: the receipt's QR code then opens the case's follow-up
    #: page there, with a one-time survey link (docs/portal.md).  Empty: the bare code.
    portal_url: str = ""
    #: Cookie signing key; read from (or created in) $SEDA_HOME/kiosk/secret_key.
    secret_key: str = field(default="", repr=False)
    testing: bool = False

    @classmethod
    def load(cls, home: Path | None = None, **overrides: Any) -> "KioskConfig":
        """Defaults, then ``$SEDA_HOME/kiosk.yaml``, then ``overrides`` (tests, CLI flags)."""
        home = Path(home) if home is not None else seda_home()
        values: dict[str, Any] = {}
        path = home / CONFIG_FILE
        if path.is_file():
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError("config_unreadable", source=str(path), error=str(exc)) from exc
            if not isinstance(raw, dict):
                raise ConfigError("config_not_mapping", source=str(path))
            values.update(raw)
        values.update(overrides)
        try:  # the office is this installation's (`seda office setup`); another code is refused
            own = read_office(home)
            if own is not None and values.setdefault("office", own) != own:
                check_same_office(home, str(values["office"]), f"office in {path}")
        except OfficeIdentityError as exc:
            raise ConfigError.passing_on(exc) from None
        return cls.from_mapping(home, values, source=str(path))

    @classmethod
    def from_mapping(cls, home: Path, values: dict[str, Any], source: str = "config") -> "KioskConfig":
        known = {f.name: f for f in dataclasses.fields(cls)}
        if "oversight_key_file" in values:
            raise ConfigError("config_oversight_key_file", source=source)
        unknown = sorted(set(values) - set(known) - {"home"})
        if unknown:
            raise ConfigError("config_unknown", source=source, names=", ".join(unknown))
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name == "home":
                continue
            default = known[name].default
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError("config_not_boolean", source=source, name=name)
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ConfigError("config_not_whole_number", source=source, name=name)
            elif name in ("directory_file", "services_file"):
                value = None if value in (None, "") else Path(value).expanduser()
                if value is not None and not value.is_absolute():
                    value = home / value
            elif not isinstance(value, str):
                raise ConfigError("config_not_text", source=source, name=name)
            clean[name] = value
        config = cls(home=Path(home), **clean)
        try:
            validate_office_code(config.office)
        except ValueError as exc:
            raise ConfigError("config_bad_setting", source=source, name="office", error=reason(exc)) from exc
        if config.receipt_printer:
            from .receipt_printer import PrinterError, parse_printer
            try:
                parse_printer(config.receipt_printer)
            except PrinterError as exc:
                raise ConfigError("config_bad_setting", source=source, name="receipt_printer",
                                  error=reason(exc)) from exc
        try:
            check_portal_url(config.portal_url, source)
        except PortalAddressError as exc:
            raise ConfigError.passing_on(exc) from None
        if config.idle_seconds and config.idle_seconds <= config.countdown_seconds:
            raise ConfigError("config_idle_too_short", source=source)
        return config

    @property
    def state_folder(self) -> Path:
        """Kiosk-only state (accounts, secret key): never synced, never in the ledger."""
        return self.home / "kiosk"

    def resolved_secret_key(self) -> str:
        """The cookie key; made once per installation so sessions survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = self.state_folder / "secret_key"
        if not path.is_file():
            try:  # 0600 from creation; two kiosks starting at once keep the first one's key
                with open_private(path, "x", encoding="ascii") as handle:
                    handle.write(secrets.token_hex(32))
            except FileExistsError:
                pass
        return path.read_text(encoding="ascii").strip()

    def data_file(self, name: str) -> Path:
        """The directory or services file in use: configured, else in $SEDA_HOME, else demo."""
        configured = self.directory_file if name == "directory" else self.services_file
        if configured is not None:
            return configured
        local = self.state_folder / f"{name}.yaml"
        if local.is_file():
            return local
        return builtin_data_folder() / f"{name}.yaml"
