"""Talking to the central server over HTTP(S), with the standard library only.

``urllib`` keeps the office install free of extra packages and works the same on Windows.
The one job here is to sort every outcome into three kinds, because the client reacts to
each differently:

- an answer (2xx JSON): use it;
- a :class:`~sync.refusals.Refusal` (4xx with a Seda error code): the server looked at what
  we sent and said no, with a reason staff can read;
- a :class:`TransportError` (no connection, timeout, cut-off body, 5xx, a proxy's HTML
  page): nothing is known, try again later.  At-least-once delivery rests on this: when in
  doubt, the batch is sent again and the server's idempotent apply sorts it out.
"""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .refusals import BlobsMissing, Refusal
from .request_auth import BATCH_ACK_PREFIX, PULL_PREFIX, sign_request
from forms.messages import MessageError
from forms.signatures import verify_answer

__all__ = ["CentralClient", "TransportError", "UntrustedAnswer"]


class TransportError(Exception):
    """The central server could not be reached or gave no usable answer; retry later."""


class UntrustedAnswer(MessageError):
    """An acknowledgement or pulled page without the pinned central key's signature: nothing
    in it is used, and a person must look (wrong key pinned, or someone in between)."""

    catalogue = "sync"

    def __init__(self, what: str) -> None:
        super().__init__("untrusted_answer", what=what)


class CentralClient:
    """The office's view of the central server's endpoints.

    ``central_key`` is the pinned central key; acknowledgements and pulled pages not signed
    with it raise :class:`UntrustedAnswer` (without it, none can be trusted: also raised).
    """

    def __init__(self, base_url: str, office: str, key: Ed25519PrivateKey, *,
                 timeout: float = 60.0, central_key: Ed25519PublicKey | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.office = office
        self.key = key
        self.timeout = timeout
        self.central_key = central_key
        #: The largest attachment the server accepts, as it said in its last missing-blobs answer.
        self.max_blob_bytes: int | None = None

    def _trusted(self, prefix: bytes, payload: dict[str, Any], what: str) -> dict[str, Any]:
        if self.central_key is None or not verify_answer(prefix, payload, self.central_key):
            raise UntrustedAnswer(what)
        return payload

    def send_batch(self, data: bytes) -> dict[str, Any]:
        """POST a signed batch; the acknowledgement (signed by the centre), or Refusal /
        BlobsMissing / TransportError / UntrustedAnswer."""
        ack = self._call("POST", "/v1/batches", data, {"Content-Type": "application/vnd.seda.batch"},
                         signed=False)
        return self._trusted(BATCH_ACK_PREFIX, ack, "acknowledgement")

    def missing_blobs(self, hashes: list[str]) -> list[str]:
        """Which of ``hashes`` the server lacks; also notes the largest attachment it accepts
        (:attr:`max_blob_bytes`, None if the server did not say)."""
        body = json.dumps({"sha256": hashes}).encode("ascii")
        answer = self._call("POST", "/v1/blobs/missing", body, {"Content-Type": "application/json"})
        limit = answer.get("max_blob_bytes")
        self.max_blob_bytes = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        return list(answer["missing"])

    def put_blob(self, sha256: str, data: bytes) -> None:
        self._call("PUT", f"/v1/blobs/{sha256}", data, {"Content-Type": "application/octet-stream"})

    def pull(self, after: int, limit: int = 500) -> dict[str, Any]:
        """One page of what the central server has for this office past cursor ``after``; it
        must be signed by the central key and name this office, this cursor and this request."""
        sent: dict[str, str] = {}
        page = self._call("GET", f"/v1/pull?after={int(after)}&limit={int(limit)}", b"", {}, sent=sent)
        self._trusted(PULL_PREFIX, page, "pull")
        if (page.get("office") != self.office or page.get("after") != int(after)
                or page.get("request") != sent.get("Seda-Signature")):
            raise UntrustedAnswer("pull: another office's, cursor's or request's page")
        return page

    def report_health(self, report: dict[str, Any]) -> dict[str, Any]:
        """POST this office's health figures (sync/health_report.py), signed."""
        body = json.dumps(report, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return self._call("POST", "/v1/office-health", body, {"Content-Type": "application/json"})

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/v1/health", b"", {}, signed=False)

    def _call(self, method: str, target: str, body: bytes, headers: dict[str, str], *,
              signed: bool = True, sent: dict[str, str] | None = None) -> dict[str, Any]:
        headers = dict(headers)
        if signed:
            headers.update(sign_request(self.key, self.office, method, target, body))
        if sent is not None:
            sent.update(headers)
        request = urllib.request.Request(self.base_url + target, data=body if method != "GET" else None,
                                         method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            try:
                raw = error.read()
            except (OSError, http.client.HTTPException):
                raw = b""
        except (OSError, http.client.HTTPException, ValueError) as error:
            # URLError, ConnectionResetError, timeouts, IncompleteRead, RemoteDisconnected, ...
            raise TransportError(f"{method} {target}: {error.__class__.__name__}: {error}") from None
        try:
            payload = json.loads(raw.decode("utf-8"))
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError):
            raise TransportError(f"{method} {target}: HTTP {status} without a readable answer") from None
        if 200 <= status < 300:
            return payload
        code = payload.get("error")
        if status >= 500 or not isinstance(code, str):
            raise TransportError(f"{method} {target}: HTTP {status} {payload.get('detail', '')}".rstrip())
        if code == "blobs_missing":
            raise BlobsMissing([str(h) for h in payload.get("missing", [])])
        raise Refusal(code, str(payload.get("detail", "")))
