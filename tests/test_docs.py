"""README.md and docs/*.md show only commands that exist: every `seda ...` command they show
answers `--help`, every option they give it is in that help, and every benchmark the README
names runs `--help` (sqlite-utils' tests/test_docs.py is the model)."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from seda.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Where a shown command ends: a pipe, a second command, a redirection, a comment.
END = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&", "#"}
FENCE = re.compile(r"^\s*```")
INLINE = re.compile(r"`([^`\n]+)`")
SEDA = re.compile(r"(?:^|(?<=[\s$(])|(?<=bin/))seda(?=\s|$)")
BENCH = re.compile(r"\bbench/(\w+\.py)\b((?:\s+--?[\w-]+(?:[ =][^\s`|]+)?)*)")


def _shown_text(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every code block line and inline code span in a Markdown file."""
    shown = []
    in_block = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_block = not in_block
        elif in_block:
            shown.append((number, line))
        else:
            shown.extend((number, span) for span in INLINE.findall(line))
    return shown


def _words(text: str) -> list[str]:
    """The words of one `seda ...` command as shown, up to where it ends."""
    try:
        words = shlex.split(text, comments=False)
    except ValueError:  # an unclosed quote in prose: take the words as they are
        words = text.split()
    kept = []
    for word in words:
        if word in END or word.startswith("#"):
            break
        kept.append(word.strip("[](),"))
    return [w for w in kept if w and w not in ("...", "…", "\\")]


def _alternatives(words: list[str]) -> list[list[str]]:
    """`seda central notify run|status` shows two commands: one word list for each."""
    for i, word in enumerate(words):
        if not word.startswith("-") and re.fullmatch(r"[a-z][\w-]*(?:[|/][a-z][\w-]*)+", word):
            return [[*words[:i], choice, *rest] for choice in re.split(r"[|/]", word)
                    for rest in _alternatives(words[i + 1:])]
    return [words]


def _starts_a_command(before: str) -> bool:
    """Whether `seda` right after ``before`` is the command of its shell segment (after `&&`,
    `;`, a pipe or `$(`, behind only `$ `, environment settings, `sudo`/`exec`/`nice`, or a
    folder such as `.venv/bin/`), not an argument of another command."""
    segment = re.split(r"&&|\|\||;|\||\$\(|\(|`", before)[-1]
    segment = re.sub(r"\S*/$", "", segment)  # .venv/bin/seda: the folder is part of the word
    return all(re.fullmatch(r"\$|sudo|exec|nice|[A-Za-z_][A-Za-z0-9_]*=\S*", word)
               for word in segment.split())


def shown_commands() -> dict[str, list[str]]:
    """Every `seda ...` command the docs show: its words after `seda`, by where it is shown."""
    commands: dict[str, list[str]] = {}
    for path in DOCS:
        for number, text in _shown_text(path):
            for match in SEDA.finditer(text):
                if not _starts_a_command(text[:match.start()]):
                    continue  # `ln -s .../bin/seda ...`, `createdb -O seda ...`: an argument
                words = _words(text[match.end():])
                if words and not re.fullmatch(r"[\w|/-]+", words[0]):
                    continue  # `seda -> central` in a diagram names the package, not a command
                for shown in _alternatives(words):
                    commands[" ".join(["seda", *shown])] = shown
    return commands


def _default_subcommand(group: click.Group, ctx: click.Context, word: str) -> str | None:
    """The subcommand a group that routes unknown words itself (`seda scan FILE`) picks."""
    if type(group).parse_args is click.Group.parse_args:
        return None
    trial = click.Context(group, info_name=ctx.info_name, parent=ctx.parent)
    try:
        group.parse_args(trial, [word])
    except click.UsageError:
        return None
    chosen = [*getattr(trial, "_protected_args", []), *trial.args]
    return chosen[0] if chosen and chosen[0] != word else None


def resolve(words: list[str]) -> tuple[list[str], list[str], click.Command | None]:
    """Walk the command tree: (the command's path, the options shown, the command or None
    when a word is no subcommand of the group it follows)."""
    command: click.Command = main
    ctx = click.Context(main, info_name="seda")
    path: list[str] = []
    options: list[str] = []
    for word in words:
        if word.startswith("-") and len(word) > 1 and not word.lstrip("-").isdigit():
            options.append(word.split("=", 1)[0])
        elif isinstance(command, click.Group) and not options:
            name = word if command.get_command(ctx, word) else _default_subcommand(command, ctx, word)
            if name is None:
                if re.fullmatch(r"<[^>]+>|[A-Z_]+|\{[^}]+\}", word):
                    break  # a placeholder where a subcommand goes
                return [*path, word], options, None
            path.append(name)
            command = command.get_command(ctx, name)
            ctx = click.Context(command, info_name=name, parent=ctx)
        # anything else is an argument or an option's value
    return path, options, command


COMMANDS = shown_commands()
PATHS = sorted({" ".join(path) for path, _, command in map(resolve, COMMANDS.values()) if command})


def test_the_docs_show_seda_commands():
    assert len(PATHS) > 30


@pytest.mark.parametrize("shown", sorted(COMMANDS))
def test_every_shown_command_exists_and_has_every_option_shown(shown):
    path, options, command = resolve(COMMANDS[shown])
    assert command is not None, f"{shown!r}: seda has no command {' '.join(path)!r}"
    help_text = _help(tuple(path))
    names = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    names |= {"--help", "-h"}
    missing = [o for o in options if o not in names or o not in help_text]
    assert missing == [], f"{shown!r}: seda {' '.join(path)} --help has no {missing}"


@pytest.mark.parametrize("path", PATHS)
def test_every_shown_command_answers_help(path):
    assert _help(tuple(path.split()))


_HELP: dict[tuple[str, ...], str] = {}


def _help(path: tuple[str, ...]) -> str:
    if path not in _HELP:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, f"seda {' '.join(path)} --help: {result.output}{result.exception!r}"
        _HELP[path] = result.output
    return _HELP[path]


def _readme_benchmarks() -> dict[str, set[str]]:
    """bench/*.py the README names, with the options it shows for each."""
    found: dict[str, set[str]] = {}
    for match in BENCH.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        options = {o.split("=")[0] for o in re.findall(r"--?[\w-]+", match.group(2))}
        found.setdefault(match.group(1), set()).update(options)
    return found


BENCHMARKS = _readme_benchmarks()


def test_the_readme_names_benchmarks():
    assert len(BENCHMARKS) >= 5


@pytest.mark.parametrize("script", sorted(BENCHMARKS))
def test_every_benchmark_the_readme_names_answers_help_with_its_options(script):
    path = ROOT / "bench" / script
    assert path.is_file(), f"README names bench/{script}, which does not exist"
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    missing = [o for o in sorted(BENCHMARKS[script]) if o not in result.stdout]
    assert missing == [], f"bench/{script} --help has no {missing}"
