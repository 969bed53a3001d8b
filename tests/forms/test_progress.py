"""Long commands draw a progress bar on a terminal and say nothing extra when piped."""
from __future__ import annotations

import io

from forms.progress import progress, shows_progress, tracked


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar() -> None:
    assert shows_progress(Terminal(), environ={})


def test_a_pipe_gets_no_bar() -> None:
    assert not shows_progress(io.StringIO(), environ={})


def test_a_dumb_terminal_or_the_switch_turns_the_bar_off() -> None:
    assert not shows_progress(Terminal(), environ={"TERM": "dumb"})
    assert not shows_progress(Terminal(), environ={"SEDA_NO_PROGRESS": "1"})


def test_the_bar_is_drawn_on_a_terminal_and_reaches_the_end() -> None:
    screen = Terminal()
    with progress(5, "Printing sheets", stream=screen) as advance:
        for _ in range(5):
            advance()
    assert "Printing sheets" in screen.getvalue() and "5/5" in screen.getvalue()


def test_a_pipe_receives_no_progress_text_and_every_item_is_processed() -> None:
    piped = io.StringIO()
    assert list(tracked(list(range(1000)), "Exporting", stream=piped)) == list(range(1000))
    assert piped.getvalue() == ""


def test_every_item_is_processed_under_the_bar() -> None:
    screen = Terminal()
    assert list(tracked(["a", "b", "c"], "Exporting", stream=screen)) == ["a", "b", "c"]
    assert "3/3" in screen.getvalue()
