"""What is wrong with the paths given to ``seda scan`` before anything is read.

An operator who types a wrong path, or points at a folder of phone pictures in a format the
scanner does not read (HEIC), must be told so in words and by the exit code (2, bad
arguments), not shown "0 pages" or "corrupt or incomplete image".  Nothing is read or stored
when a path is wrong, so nothing is half done.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from forms.messages import LOCALES

from .images import SUPPORTED_SUFFIXES
from .reasons import MESSAGES

__all__ = ["InputProblem", "input_problems", "unsupported_files"]

#: What to do with a file type people often have but the scanner does not read: the key of
#: the advice in scanner/translations.
ADVICE = {".heic": "input_advice_heic", ".heif": "input_advice_heif",
          ".doc": "input_advice_doc", ".docx": "input_advice_doc"}
SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


@dataclass(frozen=True)
class InputProblem:
    """One path that cannot be scanned, and why, in Persian and English."""

    path: Path
    message_fa: str
    message_en: str

    def line(self) -> str:
        return f"{self.path}: {self.message_fa} / {self.message_en}"


def unsupported_files(folder: Path) -> list[Path]:
    """Files in ``folder`` (and below) that the scanner does not read."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() not in SUPPORTED_SUFFIXES
                  and not p.name.startswith("."))


def _unsupported(path: Path) -> InputProblem:
    advice = ADVICE.get(path.suffix.lower())
    texts = []
    for locale in LOCALES:
        suffix = path.suffix.lower() or MESSAGES.text("input_no_suffix", locale)
        text = MESSAGES.text("input_unsupported", locale, suffix=suffix, supported=SUPPORTED_LIST)
        if advice:
            text = MESSAGES.text("input_advice", locale, text=text, advice=MESSAGES.text(advice, locale))
        texts.append(text)
    return InputProblem(path, *texts)


def input_problems(inputs: Iterable[Path]) -> list[InputProblem]:
    """Every named path that is missing, of a type not read, or a folder with nothing to read."""
    problems: list[InputProblem] = []
    for path in map(Path, inputs):
        if not path.exists():
            problems.append(InputProblem(path, *MESSAGES.both("input_not_found")))
        elif path.is_dir():
            readable = [p for p in path.rglob("*")
                        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]
            if readable:
                continue
            others = unsupported_files(path)
            if not others:
                problems.append(InputProblem(path, *MESSAGES.both("input_empty_folder")))
            else:
                names = ", ".join(p.name for p in others[:5]) + (" …" if len(others) > 5 else "")
                kinds = _unsupported(others[0])
                problems.append(InputProblem(path, *(
                    MESSAGES.text("input_folder_unread", locale, count=len(others), names=names, why=why)
                    for locale, why in zip(LOCALES, (kinds.message_fa, kinds.message_en)))))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(_unsupported(path))
    return problems
