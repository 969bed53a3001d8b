"""Following up a misconduct report without the office ever holding its tracking code.

A misconduct report is sealed at the kiosk with its tracking code inside the seal, so nobody at
the office can type the code into the follow-up screen or read what oversight answered.  What
stays readable is the **locator**: a memory-hard hash of the code.  The kiosk's follow-up
screen hashes the code a visitor types and looks the locator up; the central office publishes
a report's status changes under its locator, and an answer (or a note) only **sealed to the
tracking code** (:func:`seal_answer`): a key is derived from the code with a fresh random salt,
so only someone who has the code (the reporter, or oversight) can read it.

Brute force (docs/security.md): a tracking code has 11 random digits (10**11 codes; the check
digit adds nothing).  Someone who copies the ledger can test a guess against the locators only
through Argon2id with 64 MiB of memory and 3 passes (:data:`ARGON2`, about 0.17 s and 64 MiB
per guess on an office PC; memory-hard, so graphics cards gain little).  The locator's salt is
the office code, so one guess is tested against every report of that office at once: with
``n`` reports the expected work to find *some* report's code is about ``10**11 / (2 n)``
guesses (n = 1,000: ~5e7 guesses, ~100 CPU-days) and a *chosen* report's code about
``5e10`` guesses (~270 CPU-years).  An answer's own salt is random, so each sealed answer costs
the full ``5e10`` guesses on its own.  Even then only the status and the answer are exposed:
the report itself stays sealed to the oversight key.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from forms.cases import normalize_tracking_code
from .sealing import b64, unb64

__all__ = ["ANSWER_ALGORITHM", "ARGON2", "follow_up_locator", "open_answer", "seal_answer"]

#: Argon2id cost: RFC 9106's second recommended choice, with one lane (an office PC's core).
ARGON2 = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 1}
ANSWER_ALGORITHM = "argon2id-chacha20poly1305"
#: The largest cost a sealed answer may ask the kiosk to spend (a bigger one is refused).
_MAX_COST = {"time_cost": 10, "memory_cost": 256 * 1024, "parallelism": 4}
_LOCATOR_SALT = b"seda-follow-up/1:"


#: One Argon2id at a time per process: each takes 64 MiB and a core for ~0.2 s, and a kiosk's
#: few server threads must stay free to serve other visitors' pages meanwhile.
_ONE_AT_A_TIME = threading.Lock()


def _derive(code: str, salt: bytes, *, time_cost: int, memory_cost: int, parallelism: int) -> bytes:
    with _ONE_AT_A_TIME:
        return hash_secret_raw(normalize_tracking_code(code).encode("ascii"), salt, time_cost=time_cost,
                               memory_cost=memory_cost, parallelism=parallelism, hash_len=32,
                               type=Type.ID)


def follow_up_locator(tracking_code: str, office: str) -> str:
    """The readable stand-in for a misconduct report's tracking code (64 hex digits)."""
    salt = _LOCATOR_SALT + office.encode("utf-8")
    return _derive(tracking_code, salt, **ARGON2).hex()


def seal_answer(text: str, tracking_code: str, locator: str) -> dict[str, Any]:
    """``text`` readable only with the tracking code; bound to the report's locator."""
    salt = os.urandom(16)
    nonce = os.urandom(12)
    key = _derive(tracking_code, salt, **ARGON2)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, text.encode("utf-8"), locator.encode("ascii"))
    return {"alg": ANSWER_ALGORITHM, **ARGON2, "salt": b64(salt), "nonce": b64(nonce),
            "ciphertext": b64(ciphertext)}


def open_answer(envelope: Any, tracking_code: str, locator: str) -> str | None:
    """The answer in ``envelope``, or None if the code does not open it (or it is damaged)."""
    if not isinstance(envelope, Mapping) or envelope.get("alg") != ANSWER_ALGORITHM:
        return None
    try:
        cost = {name: int(envelope[name]) for name in ARGON2}
        if any(not 1 <= cost[name] <= _MAX_COST[name] for name in cost) or cost["memory_cost"] < 8:
            return None
        key = _derive(tracking_code, unb64(envelope["salt"]), **cost)
        plain = ChaCha20Poly1305(key).decrypt(unb64(envelope["nonce"]), unb64(envelope["ciphertext"]),
                                              locator.encode("ascii"))
    except Exception:  # noqa: BLE001 - a wrong code and a damaged envelope look the same
        return None
    return plain.decode("utf-8")

