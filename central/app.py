"""The central server's HTTP face: a small Flask app over the :class:`Store`.

Every route is a thin edge: read bytes, call the pure batch code or the store, answer JSON.
No state lives in the process (the store object only pools connections), so run as many
server processes as the load needs, behind any load balancer, on one PostgreSQL.

Endpoints (docs/sync-protocol.md has the full contract):

- ``GET  /v1/health``                 is the server up, and can it reach its store
- ``GET  /v1/setup``                  the centre's sync key and the signed oversight key
                                      (what ``seda sync setup`` pins)
- ``POST /v1/batches``                a signed batch; answers the acknowledgement (signed)
- ``POST /v1/blobs/missing``          signed; which of these attachment hashes are missing
- ``PUT  /v1/blobs/<sha256>``         signed; one attachment's bytes
- ``GET  /v1/pull?after=N&limit=M``   signed; what the office should know, past cursor N
                                      (the page is signed by the centre's key)
- ``POST /v1/office-health``          signed; the office's health figures (office_health.py)
- ``GET  /metrics``                   Prometheus text, with the metrics bearer token (metrics.py)
"""
from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, Response, request

from forms import seda_home
from forms.workdays import TEHRAN

from sync.batch import DEFAULT_LIMITS, Limits, check_dates, parse_batch, verify_batch
from sync.json_limits import loads_limited
from sync.refusals import BlobsMissing, Refusal
from sync.request_auth import BATCH_ACK_PREFIX, MAX_SKEW, PULL_PREFIX, verify_request
from .casework import Casework
from .keys import CentralKeys
from .metrics import metrics_blueprint
from .office_health import health_blueprint
from .open311 import open311_blueprint
from .store import Store
from .web import errors as web_errors
from . import web

__all__ = ["create_app"]

log = logging.getLogger("seda.central")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_BLOB_BYTES = 32 * 1024 * 1024
#: Where the server is reached from outside (``seda central serve --public-url``).
PUBLIC_URL_ENV = "SEDA_CENTRAL_PUBLIC_URL"
MAX_MISSING_QUERY = 10_000


#: Errors that mean "the store is down", answered 503 (never a half-done write).
STORE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError, sqlite3.DatabaseError, psycopg.OperationalError, psycopg.InterfaceError)


#: The largest cursor a feed can reach (a signed 64-bit integer on both databases).
MAX_CURSOR = 2 ** 63 - 1


def _whole_number(text: str) -> int:
    """A query argument that must be a whole number a database column can hold."""
    text = text.strip()
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_CURSOR:
        raise ValueError(text)
    return int(text)


def _answer(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


def create_app(store: Store, *, limits: Limits = DEFAULT_LIMITS, home: Path | None = None,
               public_url: str | None = None, metrics_token: str | None = None) -> Flask:
    """The WSGI app serving ``store``; ``seda central serve`` hands it to waitress.

    ``home`` is the central installation's folder (default ``$SEDA_HOME``): its ``keys/`` hold
    the sync key that signs every answer and the oversight key (central/keys.py).
    ``public_url`` (default ``$SEDA_CENTRAL_PUBLIC_URL``) is the address clients reach the
    server at; answers that name the server use it, never the request's ``Host`` header.
    ``metrics_token`` (default ``$SEDA_CENTRAL_METRICS_TOKEN``) opens ``/metrics`` to
    requests bearing it; without one ``/metrics`` is off.
    """
    public_url = (public_url if public_url is not None
                  else os.environ.get(PUBLIC_URL_ENV, "")).strip().rstrip("/")
    if public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", public_url):
        raise ValueError(f"the public URL {public_url!r} must look like https://seda.example.ir")
    app = Flask("central")
    app.config["MAX_CONTENT_LENGTH"] = max(limits.max_wire_bytes, MAX_BLOB_BYTES) + 1024
    store_errors = STORE_DOWN_ERRORS
    keys = CentralKeys(home if home is not None else seda_home(), store)
    app.extensions["seda.central_keys"] = keys
    try:  # the oversight key pair is made with the store; a store that is down: on first use
        keys.oversight_statement()
    except store_errors as exc:
        log.error("store unavailable at start, the oversight key is checked later: %s", exc)

    def refuse(refusal: Refusal, *, office: str | None = None, batch_seq: int | None = None,
               logged: bool = True) -> Response:
        if logged:
            log.warning("refused %s from office=%s batch=%s: %s", refusal.code, office, batch_seq,
                        refusal.detail)
            try:
                store.log_refusal(refusal, office=office, batch_seq=batch_seq, source="http")
            except store_errors:
                log.exception("could not write the refusal to the store")
        return _answer(refusal.to_json(), refusal.http_status)

    def authenticated_office() -> str:
        target = request.full_path if request.query_string else request.path
        return verify_request(request.headers, request.method, target, request.get_data(),
                              store.office_public_key)

    @app.errorhandler(413)
    def too_large(_error: Exception) -> Response:
        if not web_errors.is_api_path(request.path):
            return web_errors.page_for_status(413)  # a web page: Persian HTML, not JSON
        if request.path.startswith("/v1/blobs/"):  # the office stops sending this attachment
            return refuse(Refusal("blob_too_large", f"attachment of {request.content_length} bytes; "
                                                    f"the limit is {MAX_BLOB_BYTES}"))
        return refuse(Refusal("oversized", f"request body over {app.config['MAX_CONTENT_LENGTH']} bytes"))

    @app.errorhandler(Exception)
    def store_down(error: Exception) -> Response:
        web_page = not web_errors.is_api_path(request.path)
        if isinstance(error, store_errors):
            log.error("store unavailable: %s", error)
            if web_page:
                return web_errors.page_for_status(503)
            return refuse(Refusal("store_unavailable", "the central database did not answer"),
                          logged=False)
        if hasattr(error, "code") and hasattr(error, "get_response"):
            if web_page:
                return web_errors.page_for(error)  # the web app's pages: Persian HTML
            return error.get_response()  # werkzeug HTTP errors (404, 405) as they are
        log.exception("unexpected error")
        if web_page:
            return web_errors.page_for(error)
        return _answer({"error": "internal", "detail": "unexpected server error"}, 500)

    @app.get("/v1/health")
    def health() -> Response:
        with store.connect() as db:
            db.one("SELECT 1")
        return _answer({"ok": True, "store": store.dialect})

    @app.get("/v1/setup")
    def setup() -> Response:
        return _answer(keys.setup_document())

    @app.post("/v1/batches")
    def receive_batch() -> Response:
        data = request.get_data()
        office = batch_seq = None
        try:
            signed = parse_batch(data, limits)
            office, batch_seq = signed.office, signed.manifest["seq"]
            verified = verify_batch(signed, store.office_public_key(office), limits)
            check_dates(verified, datetime.now(timezone.utc), MAX_SKEW)
            ack = store.apply_batch(verified, source="http")
        except BlobsMissing as missing:
            return refuse(missing, office=office, batch_seq=batch_seq, logged=False)
        except Refusal as refusal:
            return refuse(refusal, office=office, batch_seq=batch_seq)
        log.info("batch %s/%s %s: %d new, %d duplicate, %d conflict", ack["office"], ack["seq"],
                 ack["status"], ack["new"], ack["duplicate"], ack["conflict"])
        return _answer(keys.sign(BATCH_ACK_PREFIX, ack))

    @app.post("/v1/blobs/missing")
    def missing_blobs() -> Response:
        try:
            authenticated_office()
        except Refusal as refusal:
            return refuse(refusal)
        try:
            asked = loads_limited(request.get_data(), max_depth=2)["sha256"]
            if not isinstance(asked, list) or len(asked) > MAX_MISSING_QUERY or not all(
                    isinstance(h, str) and _SHA256.match(h) for h in asked):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return refuse(Refusal("malformed_manifest", 'expected {"sha256": [up to 10000 hashes]}'),
                          logged=False)
        return _answer({"missing": store.missing_blobs(asked), "max_blob_bytes": MAX_BLOB_BYTES})

    @app.put("/v1/blobs/<sha256>")
    def put_blob(sha256: str) -> Response:
        try:
            office = authenticated_office()
            if not _SHA256.match(sha256):
                raise Refusal("bad_blob", "the address must be 64 lowercase hex digits")
            if (request.content_length or 0) > MAX_BLOB_BYTES:
                raise Refusal("blob_too_large", f"attachment {sha256} is {request.content_length} "
                                                f"bytes; the limit is {MAX_BLOB_BYTES}")
            data = request.get_data()
            if len(data) > MAX_BLOB_BYTES:
                raise Refusal("blob_too_large", f"attachment {sha256} is over {MAX_BLOB_BYTES} bytes")
            created = store.put_blob(sha256, data)
        except Refusal as refusal:
            return refuse(refusal)
        log.info("blob %s from %s (%s)", sha256, office, "new" if created else "already had it")
        return _answer({"sha256": sha256, "stored": True, "new": created}, 201 if created else 200)

    @app.get("/v1/pull")
    def pull() -> Response:
        try:
            office = authenticated_office()
            after = _whole_number(request.args.get("after", "0"))
            limit = _whole_number(request.args.get("limit", "500"))
        except Refusal as refusal:
            return refuse(refusal)
        except ValueError:
            return refuse(Refusal("bad_request", "after and limit are whole numbers from 0 to "
                                                 f"{MAX_CURSOR}"), office=None, logged=False)
        page = store.pull(office, after, limit)
        return _answer(keys.sign(PULL_PREFIX, {**page, "office": office, "after": after,
                                               "request": request.headers["Seda-Signature"]}))

    app.register_blueprint(health_blueprint(store))  # offices' health reports: central/office_health.py
    app.register_blueprint(metrics_blueprint(
        store, lambda now: Casework(store).calendar(now.astimezone(TEHRAN).date()), metrics_token))
    app.register_blueprint(open311_blueprint(store, public_url=public_url))  # /open311/v2/...: docs/open311.md
    web.init_app(app, store)  # the central office's pages: docs/central-office.md
    return app
