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

from forms.persian import to_persian_digits

from .images import SUPPORTED_SUFFIXES

__all__ = ["InputProblem", "input_problems", "unsupported_files"]

#: What to do with a file type people often have but the scanner does not read.
ADVICE = {
    ".heic": ("از تلفن عکس را با قالب JPEG بفرستید (در آیفون: تنظیمات ‹ دوربین ‹ قالب‌ها ‹ سازگارترین)",
              "send the photo as JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible)"),
    ".heif": ("از تلفن عکس را با قالب JPEG بفرستید", "send the photo as JPEG"),
    ".doc": ("برگه را اسکن یا از آن عکس بگیرید", "scan or photograph the sheet"),
    ".docx": ("برگه را اسکن یا از آن عکس بگیرید", "scan or photograph the sheet"),
}
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
    suffix = path.suffix.lower() or "(بی‌پسوند)"
    fa, en = ADVICE.get(path.suffix.lower(), ("", ""))
    return InputProblem(
        path,
        f"نوع فایل {suffix} خوانده نمی‌شود (خوانده می‌شود: {SUPPORTED_LIST})" + (f"؛ {fa}" if fa else ""),
        f"file type {path.suffix.lower() or '(none)'} is not read (read: {SUPPORTED_LIST})"
        + (f"; {en}" if en else ""))


def input_problems(inputs: Iterable[Path]) -> list[InputProblem]:
    """Every named path that is missing, of a type not read, or a folder with nothing to read."""
    problems: list[InputProblem] = []
    for path in map(Path, inputs):
        if not path.exists():
            problems.append(InputProblem(path, "پیدا نشد", "not found"))
        elif path.is_dir():
            readable = [p for p in path.rglob("*")
                        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]
            if readable:
                continue
            others = unsupported_files(path)
            if not others:
                problems.append(InputProblem(path, "پوشه خالی است: فایلی برای خواندن ندارد",
                                             "the folder is empty: nothing to read"))
            else:
                names = ", ".join(p.name for p in others[:5]) + (" …" if len(others) > 5 else "")
                kinds = _unsupported(others[0])
                problems.append(InputProblem(
                    path, f"در پوشه فایلی که خوانده شود نیست ({to_persian_digits(len(others))} فایل: {names})؛ "
                          + kinds.message_fa,
                    f"no file in the folder is read ({len(others)} files: {names}); "
                    + kinds.message_en))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(_unsupported(path))
    return problems
