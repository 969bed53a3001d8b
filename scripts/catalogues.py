#!/usr/bin/env python3
"""Check Seda's message catalogues: `python scripts/catalogues.py check` (docs/translating.md).

Prints one line per problem (missing or extra keys, empty or fuzzy entries, placeholders that
differ between locales, Latin digits in Persian) and exits 1 if there is any.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forms.messages import LOCALES, catalogue_path, placeholders, read_catalog  # noqa: E402

PACKAGES = ("kiosk", "central", "forms", "scanner", "sync", "seda")


def _latin_digits(text: str) -> list[str]:
    text = re.sub(r"\{[^}]*\}|`[^`]*`|[A-Za-z][A-Za-z0-9._/:-]*", "", text)
    return re.findall(r"[0-9]+", text)


def problems(package: str) -> list[str]:
    """What is wrong with one package's catalogues, one sentence each."""
    found: list[str] = []
    entries: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        path = catalogue_path(ROOT / package / "translations", locale)
        if not path.is_file():
            found.append(f"{path.relative_to(ROOT)}: missing")
            continue
        catalog = read_catalog(path, locale)
        entries[locale] = {m.id: m.string for m in catalog if m.id}
        for message in catalog:
            if not message.id:
                continue
            where = f"{path.relative_to(ROOT)}: {message.id}"
            if not (message.string or "").strip():
                found.append(f"{where}: empty")
            if message.fuzzy:
                found.append(f"{where}: fuzzy (ignored until the flag is removed)")
            if locale == "fa" and _latin_digits(message.string or ""):
                found.append(f"{where}: Latin digits in Persian")
    if len(entries) == len(LOCALES):
        base = entries[LOCALES[0]]
        for locale in LOCALES[1:]:
            other = entries[locale]
            for key in sorted(base.keys() - other.keys()):
                found.append(f"{package}: {key} missing in {locale}")
            for key in sorted(other.keys() - base.keys()):
                found.append(f"{package}: {key} missing in {LOCALES[0]}")
            for key in sorted(base.keys() & other.keys()):
                if placeholders(base[key]) != placeholders(other[key]):
                    found.append(f"{package}: {key}: placeholders differ "
                                 f"({sorted(placeholders(base[key]))} / {sorted(placeholders(other[key]))})")
    return found


def main(argv: list[str]) -> int:
    if argv[1:] != ["check"]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    found = [line for package in PACKAGES for line in problems(package)]
    for line in found:
        print(line)
    total = sum(len(read_catalog(catalogue_path(ROOT / p / "translations", "fa"), "fa")) for p in PACKAGES)
    print(f"{len(PACKAGES)} packages, {total} keys, {len(found)} problem(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
