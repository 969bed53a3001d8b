"""The SMS settings file, ``$SEDA_HOME/sms.toml`` (or ``--config``): which gateway, and how
to reach an HTTP panel.  No file means the log-only gateway.  Example (docs/notifications.md):

    gateway = "http"
    daily_limit = 5

    [http]
    url = "https://panel.example.ir/api/send"
    method = "POST"
    encoding = "json"                      # json | form | query
    success_path = "status"
    success_value = "ok"
    id_path = "messageid"
    [http.headers]
    Authorization = "Bearer {env:SEDA_SMS_TOKEN}"
    [http.template]
    to = "{mobile}"
    text = "{message}"
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .gateways import Gateway, HttpGateway, HttpSettings, LogGateway

__all__ = ["NotifySettings", "SettingsError", "load_settings"]

_ENV = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_HTTP_KEYS = {"url", "method", "encoding", "template", "headers", "username", "password",
              "success_path", "success_value", "id_path", "timeout"}


class SettingsError(ValueError):
    """The settings file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class NotifySettings:
    gateway: Gateway
    daily_limit: int = 5


def _missing_env(value: Any) -> list[str]:
    if isinstance(value, str):
        return [name for name in _ENV.findall(value) if name not in os.environ]
    if isinstance(value, dict):
        return [name for v in value.values() for name in _missing_env(v)]
    if isinstance(value, list):
        return [name for v in value for name in _missing_env(v)]
    return []


def load_settings(path: Path) -> NotifySettings:
    """The settings in ``path``; a missing file is the log-only gateway."""
    if not path.is_file():
        return NotifySettings(LogGateway())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"gateway", "daily_limit", "http"}
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    daily_limit = data.get("daily_limit", 5)
    if not isinstance(daily_limit, int) or not 1 <= daily_limit <= 50:
        raise SettingsError(f"{path}: daily_limit must be a whole number from 1 to 50")
    kind = data.get("gateway", "log")
    if kind == "log":
        return NotifySettings(LogGateway(), daily_limit)
    if kind != "http":
        raise SettingsError(f"{path}: gateway must be \"log\" or \"http\", not {kind!r}")
    http = data.get("http")
    if not isinstance(http, dict) or "url" not in http:
        raise SettingsError(f"{path}: gateway \"http\" needs an [http] table with url = ...")
    unknown = set(http) - _HTTP_KEYS
    if unknown:
        raise SettingsError(f"{path}: unknown [http] setting(s) {', '.join(sorted(unknown))}")
    missing = _missing_env(http)
    if missing:
        raise SettingsError(f"{path}: environment variable(s) {', '.join(sorted(set(missing)))} "
                            "named in [http] are not set")
    try:
        settings = HttpSettings(**{k: v for k, v in http.items()})
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    return NotifySettings(HttpGateway(settings), daily_limit)
