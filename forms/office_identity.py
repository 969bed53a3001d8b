"""Which office this installation is: one file, ``$SEDA_HOME/office.toml``, read by every part.

The kiosk files cases, the scanner stores sheets, printing signs sheet codes and sync sends
batches, each under an office code.  When those codes came from four places (kiosk.yaml,
sync.toml, the ``--office`` of each print run) an office could file a citizen's complaint under
a code sync never sends.  So the code is written once, by ``seda office setup``, here, and each
part asks :func:`require_office` or checks its own setting against it with
:func:`check_same_office`: a mismatch is refused where it is written, not found months later.

It lives in forms/ because every other package may read forms/ and none of the others.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from .messages import MessageError, messages_for
from .private_files import write_private
from .sheet_code import validate_office_code

__all__ = ["IDENTITY_FILE", "OfficeIdentityError", "check_same_office", "identity_path",
           "read_office", "require_office", "setup_hint", "write_office"]

IDENTITY_FILE = "office.toml"


class OfficeIdentityError(MessageError, ValueError):
    """The installation has no office yet, or something names another office; says what to run."""


def identity_path(home: Path) -> Path:
    return Path(home) / IDENTITY_FILE


def setup_hint(office: str = "CODE") -> str:
    return f"seda office setup --office {office} --central URL"


def read_office(home: Path) -> str | None:
    """The office code this installation is set up for, or None before ``seda office setup``."""
    path = identity_path(home)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OfficeIdentityError("office_file_unreadable", path=str(path), error=str(exc)) from None
    office = data.get("office")
    if not isinstance(office, str):
        raise OfficeIdentityError("office_file_no_code", path=str(path), command=setup_hint())
    try:
        return validate_office_code(office)
    except ValueError:
        raise OfficeIdentityError("office_file_bad_code", path=str(path), office=office) from None


def require_office(home: Path) -> str:
    """The office code, or an error saying (Persian, then English) which command sets it."""
    office = read_office(home)
    if office is None:
        raise OfficeIdentityError("office_not_set_up", path=str(identity_path(home)), command=setup_hint())
    return office


def check_same_office(home: Path, office: str, where: str) -> str:
    """``office`` if it is this installation's office (or none is set yet); else refuse.

    ``where`` names the setting or option that gave the other code, so the message says which
    line to fix."""
    validate_office_code(office)
    own = read_office(home)
    if own is not None and office != own:
        raise OfficeIdentityError("office_other", own=own, office=office, where=where)
    return office


def write_office(home: Path, office: str) -> Path:
    """Write the identity file (0600, atomically); the caller decides whether a change is allowed."""
    validate_office_code(office)
    heading = "".join(f"# {line}\n" for line in messages_for("forms").both("office_file_heading"))
    text = ("# This installation's office (written by `seda office setup`).\n"
            f"{heading}office = {json.dumps(office)}\n")
    return write_private(identity_path(home), text)
