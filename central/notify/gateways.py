"""SMS gateway adapters: a generic HTTP SMS panel, and a log-only one for demos and tests.

An adapter's :meth:`send` answers with an :class:`Outcome`: ``sent`` (with the panel's message
id), ``retry`` (the panel certainly did not take it: no connection, 5xx, 429) or ``failed``
(it refused the message, or the outcome is unknown).  A read that times out after the
request went out is *unknown*: the panel may have sent it, so it is not tried again — a
citizen would rather miss a text than get two.

The HTTP adapter speaks the common shape of SMS panels: a URL, a method, headers (auth),
and a body or query made from a template of strings in which ``{mobile}`` (09xxxxxxxxx),
``{mobile_intl}`` (98xxxxxxxxxx), ``{message}`` and ``{id}`` (the outbox row, for panels
that accept a client reference) are filled in; ``{env:NAME}`` reads a secret from the
environment so it need not sit in the file.  Success is a 2xx answer whose JSON field
``success_path`` (if set) equals ``success_value``; ``id_path`` names the message id in it.
Only the standard library is used, and nothing but the panel's URL is ever contacted.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .outbox import Notification

__all__ = ["Gateway", "HttpGateway", "HttpSettings", "LogGateway", "Outcome", "mask_mobile"]

log = logging.getLogger("seda.central.notify")
_ENV = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent" | "retry" | "failed"
    gateway_id: str | None = None
    error: str | None = None


class Gateway(Protocol):
    name: str

    def send(self, notification: Notification) -> Outcome: ...


def mask_mobile(mobile: str) -> str:
    """0912***4567: enough for an operator to tell messages apart, not to call anyone."""
    return mobile[:4] + "***" + mobile[-4:] if len(mobile) >= 8 else "***"


class LogGateway:
    """Writes each message to the log instead of sending it (the default; ``seda demo``)."""

    name = "log"

    def send(self, notification: Notification) -> Outcome:
        log.info("SMS (log only) to %s: %s", mask_mobile(notification.mobile),
                 notification.message.replace("\n", " | "))
        return Outcome("sent", gateway_id=f"log-{notification.id}")


@dataclass(frozen=True)
class HttpSettings:
    url: str
    method: str = "POST"
    #: ``json`` or ``form`` body, or ``query`` (the template goes in the URL's query string).
    encoding: str = "json"
    template: Mapping[str, Any] = field(default_factory=lambda: {"to": "{mobile}", "text": "{message}"})
    headers: Mapping[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None
    success_path: str | None = None
    success_value: str | None = None
    id_path: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^\s/]+", self.url or ""):
            raise ValueError(f"the SMS panel URL {self.url!r} must start with http:// or https://")
        if self.method not in ("GET", "POST"):
            raise ValueError("the SMS panel method is GET or POST")
        if self.encoding not in ("json", "form", "query"):
            raise ValueError("the SMS panel encoding is json, form or query")
        if self.method == "GET" and self.encoding != "query":
            raise ValueError("a GET request carries its fields in the query: encoding = \"query\"")


def _expand(value: Any, fields: Mapping[str, str]) -> Any:
    """Fill the placeholders of a template value (strings inside lists and tables too)."""
    if isinstance(value, str):
        def env(match: re.Match) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise KeyError(f"environment variable {name} (named in the SMS settings) is not set")
            return os.environ[name]
        text = _ENV.sub(env, value)
        for key, filled in fields.items():
            text = text.replace("{" + key + "}", filled)
        return text
    if isinstance(value, Mapping):
        return {k: _expand(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, fields) for v in value]
    return value


def _at_path(data: Any, path: str) -> Any:
    """``data["a"]["b"][0]`` for the path ``a.b.0``; None where the path leads nowhere."""
    for part in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class HttpGateway:
    """A generic HTTP SMS panel (see the module docstring)."""

    name = "http"

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings

    def request(self, notification: Notification) -> urllib.request.Request:
        s = self.settings
        fields = {"mobile": notification.mobile, "mobile_intl": "98" + notification.mobile[1:],
                  "message": notification.message, "id": str(notification.id)}
        payload = _expand(dict(s.template), fields)
        headers = {k: _expand(v, fields) for k, v in s.headers.items()}
        url, data = _expand(s.url, {k: urllib.parse.quote(v) for k, v in fields.items()}), None
        if s.encoding == "query":
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(payload)
        elif s.encoding == "json":
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        else:
            data = urllib.parse.urlencode(payload).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if s.username is not None:
            pair = f"{_expand(s.username, {})}:{_expand(s.password or '', {})}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return urllib.request.Request(url, data=data, headers=headers, method=s.method)

    def send(self, notification: Notification) -> Outcome:
        try:
            request = self.request(notification)
        except KeyError as exc:
            return Outcome("retry", error=str(exc.args[0]))
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as answer:  # noqa: S310
                raw = answer.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            detail = f"the panel answered HTTP {exc.code}: {exc.read(300).decode('utf-8', 'replace')}"
            return Outcome("retry" if exc.code == 429 or exc.code >= 500 else "failed", error=detail)
        except urllib.error.URLError as exc:  # not connected, or the request never went out
            return Outcome("retry", error=f"could not reach the panel: {exc.reason}")
        except (TimeoutError, socket.timeout, ConnectionError) as exc:
            return Outcome("failed", error=f"no answer after sending ({exc or 'timeout'}): "
                                           "outcome unknown, not sent again")
        return self._judge(raw)

    def _judge(self, raw: bytes) -> Outcome:
        s = self.settings
        if s.success_path is None and s.id_path is None:
            return Outcome("sent")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Outcome("failed", error="the panel's answer is not JSON: "
                                           + raw[:200].decode("utf-8", "replace"))
        if s.success_path is not None and str(_at_path(data, s.success_path)) != str(s.success_value):
            return Outcome("failed", error="the panel refused the message: "
                                           + raw[:300].decode("utf-8", "replace"))
        found = _at_path(data, s.id_path) if s.id_path else None
        return Outcome("sent", gateway_id=None if found is None else str(found))
