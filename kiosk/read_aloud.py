"""What the kiosk can read aloud beyond survey questions, all made without a network.

Visitors who cannot read tap «خواندن با صدا» on any screen.  Three kinds of speech:

- **a screen's main text** -- fixed words, so the clips are made at build time with the survey
  questions' (``python -m kiosk.tools.make_audio``) and shipped in ``kiosk/static/audio/`` as
  ``screen-<name>-<lang>.ogg``; :data:`SCREEN_TEXTS` says which strings each clip reads;
- **a tracking code, digit by digit** -- ten clips per language, ``digit-<d>-<lang>.ogg``, that
  the page plays one after another (a code is never synthesised, so it never leaves the page);
- **the answer on the follow-up screen** -- words nobody knew at build time, spoken on the
  kiosk itself by espeak-ng (:func:`speak`) when it is installed, as a WAV that lives only in
  the response to this visit's request (nothing is written to disk or cached).

A clip or the synthesiser that is missing only hides its button: reading aloud is a help,
never a step a visitor depends on.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from forms.persian import SENTENCE_ENDS

from .i18n import translate

__all__ = ["AUDIO_FOLDER", "SCREEN_TEXTS", "code_clips", "digit_clip_name", "digit_clips", "screen_clip",
           "screen_clip_name", "screen_spoken_text", "speak", "speech_available"]

AUDIO_FOLDER = Path(__file__).resolve().parent / "static" / "audio"
#: Clip name -> the strings it reads, in order (keys of :mod:`kiosk.i18n`).
SCREEN_TEXTS: dict[str, tuple[str, ...]] = {
    "home": ("home_title", "home_intro", "tile_survey", "tile_case", "tile_report",
             "tile_follow_up", "tile_voice", "tile_contact", "tile_services"),
    "case": ("case_title", "case_intro", "case_voice_alternative", "case_identity_hint"),
    "report": ("report_title", "report_what_kept"),
    "voice": ("voice_title", "voice_spoken_intro"),
    "follow_up": ("follow_title", "follow_intro"),
    "receipt": ("receipt_title", "receipt_saved", "receipt_keep"),
    "survey_end": ("survey_end_title", "survey_end_body"),
    "survey_thanks": ("survey_thanks_title", "survey_thanks"),
}
#: espeak-ng voices by kiosk locale.
VOICES = {"fa": "fa", "en": "en"}
#: Longest text spoken on request (an answer is rarely longer; espeak-ng takes ~1 s per 1000).
MAX_SPOKEN_CHARACTERS = 4000
SPEECH_TIMEOUT_SECONDS = 30


def screen_clip_name(screen: str, lang: str) -> str:
    return f"screen-{screen}-{lang}.ogg"


def digit_clip_name(digit: str, lang: str) -> str:
    return f"digit-{digit}-{lang}.ogg"


def screen_spoken_text(screen: str, lang: str) -> str:
    """The words of one screen's clip: its strings, each ending a sentence."""
    parts = [translate(key, lang).strip() for key in SCREEN_TEXTS[screen]]
    return " ".join(p if p.endswith(SENTENCE_ENDS) else p + "." for p in parts)


def screen_clip(screen: str, lang: str, folder: Path = AUDIO_FOLDER) -> str | None:
    """The static path of a screen's clip ("audio/..."), or None if it was not made."""
    if screen not in SCREEN_TEXTS:
        raise KeyError(screen)
    name = screen_clip_name(screen, lang)
    return f"audio/{name}" if (folder / name).is_file() else None


def digit_clips(lang: str, folder: Path = AUDIO_FOLDER) -> list[str] | None:
    """Static paths of the ten digit clips, 0 to 9, or None unless all ten were made."""
    names = [digit_clip_name(str(d), lang) for d in range(10)]
    if not all((folder / name).is_file() for name in names):
        return None
    return [f"audio/{name}" for name in names]


def code_clips(code: str, lang: str, folder: Path = AUDIO_FOLDER) -> list[str] | None:
    """The clips that read ``code`` digit by digit (other characters are skipped), or None."""
    clips = digit_clips(lang, folder)
    if clips is None:
        return None
    return [clips[int(c)] for c in code if c in "0123456789"]


def speech_available() -> bool:
    """espeak-ng is on this kiosk (Debian: apt-get install espeak-ng; Windows: its installer)."""
    return shutil.which("espeak-ng") is not None


def speak(text: str, lang: str) -> bytes:
    """``text`` spoken as a WAV file, made here; ValueError for nothing to say."""
    words = " ".join(text.split())[:MAX_SPOKEN_CHARACTERS]
    if not words:
        raise ValueError("nothing to say")
    program = shutil.which("espeak-ng")
    if program is None:
        raise RuntimeError("espeak-ng is not installed")
    done = subprocess.run([program, "-v", VOICES.get(lang, "fa"), "-s", "140", "--stdout"],
                          input=words.encode("utf-8"), capture_output=True, check=True,
                          timeout=SPEECH_TIMEOUT_SECONDS)
    return done.stdout
