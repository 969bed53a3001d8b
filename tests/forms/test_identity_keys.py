"""Key files made on first use: one key however many programs start at once."""
from __future__ import annotations

import multiprocessing
import os

import pytest

from forms.identity_keys import central_key_path, ensure_central_key
from forms.signatures import public_key_hex


def _start_and_report(home: str, ready, out) -> None:
    ready.wait()
    try:
        key, _ = ensure_central_key(home)
        out.put(public_key_hex(key))
    except Exception as exc:  # noqa: BLE001 - the parent reports what went wrong
        out.put(f"error: {exc}")


@pytest.mark.skipif(os.name != "posix", reason="forks")
def test_programs_starting_at_once_share_one_whole_key(tmp_path):
    """The portal's workers start together on a fresh home: before, one could read the key
    file while another was still writing it and stop with 'damaged key file'."""
    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        home = tmp_path / f"home{attempt}"
        ready, out = context.Barrier(6), context.Queue()
        starters = [context.Process(target=_start_and_report, args=(str(home), ready, out)) for _ in range(6)]
        for starter in starters:
            starter.start()
        answers = [out.get(timeout=30) for _ in starters]
        for starter in starters:
            starter.join(10)
        assert len(set(answers)) == 1 and not answers[0].startswith("error"), answers
        assert public_key_hex(ensure_central_key(home)[0]) == answers[0]
        assert [p.name for p in central_key_path(home).parent.iterdir()] == [central_key_path(home).name]
        assert central_key_path(home).stat().st_mode & 0o777 == 0o600
