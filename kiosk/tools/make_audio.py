"""Make the read-aloud clips for the kiosk survey: ``python -m kiosk.tools.make_audio``.

Visitors who cannot read tap "read the question aloud" (Article 9, clause 5 asks every visitor,
literate or not).  The kiosk must work with no network, so the clips are synthesised here, at
build time, and shipped in ``kiosk/static/audio/`` as small Ogg Opus files (Chromium plays them
natively).  Each clip reads the question and then its choices.  The same run makes the other
screens' clips (:mod:`kiosk.read_aloud`): each screen's main text and the ten digits a tracking
code is read with, in Persian and English.

Needs ``espeak-ng`` (Persian voice ``fa``) and ``opusenc`` (Debian: ``apt-get install
espeak-ng opus-tools``).  Recorded human voices are better: drop an .ogg with the same name
into the folder and it is used instead; this script only overwrites with ``--force``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from forms import Form, builtin_catalog
from kiosk.i18n import translate
from kiosk.survey_flow import kiosk_label
from kiosk.read_aloud import (SCREEN_TEXTS, VOICES, digit_clip_name, screen_clip_name,
                               screen_spoken_text)

AUDIO_FOLDER = Path(__file__).resolve().parent.parent / "static" / "audio"
BUDGET_BYTES = 3 * 1024 * 1024


def clip_name(form: Form, question_id: str) -> str:
    """The file the survey screen looks for (see kiosk.visitor._audio_file)."""
    return f"{form.id}-v{form.version}-{question_id}.ogg"


def spoken_text(question) -> str:
    """The question, then its choices separated by pauses; digits questions say what to type."""
    label = kiosk_label(question.label.fa)
    if question.options:
        choices = translate("list_separator", "fa").join(option.label.fa for option in question.options)
        return translate("audio_question_choices", "fa", label=label, choices=choices)
    return f"{label}."


def digit_words(lang: str) -> list[str]:
    """How ``lang`` says its ten digits, 0 to 9 (espeak-ng reads a lone digit in its own language)."""
    words = translate("audio_digit_words", lang).split()
    if len(words) != 10:
        raise ValueError(f"audio_digit_words in {lang} must name ten digits, not {len(words)}")
    return words


def synthesise(text: str, out: Path, speed: int = 140, voice: str = "fa") -> None:
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "clip.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        subprocess.run(["opusenc", "--quiet", "--bitrate", "20", "--downmix-mono", str(wav), str(out)],
                       check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", default="satisfaction")
    parser.add_argument("--force", action="store_true", help="overwrite existing clips")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "opusenc"):
        if shutil.which(tool) is None:
            print(f"{tool} not found; on Debian: apt-get install espeak-ng opus-tools", file=sys.stderr)
            return 1
    form = builtin_catalog().get(args.form)
    AUDIO_FOLDER.mkdir(parents=True, exist_ok=True)
    for question in form.questions:
        out = AUDIO_FOLDER / clip_name(form, question.id)
        if out.exists() and not args.force:
            print(f"kept    {out.name}")
            continue
        synthesise(spoken_text(question), out)
        print(f"made    {out.name} ({out.stat().st_size:,} bytes)")
    for lang, voice in VOICES.items():
        wanted = [(screen_clip_name(screen, lang), screen_spoken_text(screen, lang), 140)
                  for screen in SCREEN_TEXTS]
        wanted += [(digit_clip_name(str(d), lang), word, 120)
                   for d, word in enumerate(digit_words(lang))]
        for name, text, speed in wanted:
            out = AUDIO_FOLDER / name
            if out.exists() and not args.force:
                print(f"kept    {out.name}")
                continue
            synthesise(text, out, speed=speed, voice=voice)
            print(f"made    {out.name} ({out.stat().st_size:,} bytes)")
    total = sum(p.stat().st_size for p in AUDIO_FOLDER.glob("*.ogg"))
    print(f"total {total:,} bytes in {AUDIO_FOLDER}")
    if total > BUDGET_BYTES:
        print(f"over the {BUDGET_BYTES:,}-byte budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
