"""docs/cli.md is what the commands' --help says today, and every command's help says what it
does and shows how to run it (an Examples block of real command lines)."""

import importlib.util
import re
import shlex

import click
import pytest

from bzgate.cli import command_contexts, main
from toolchain import REPO

_spec = importlib.util.spec_from_file_location("cli_reference", REPO / "tools" / "cli_reference.py")
cli_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli_reference)

CONTEXTS = {ctx.command_path: ctx for ctx in command_contexts()}
# The block as click prints it when the docstring keeps its lines with \b: one command a line
# (a line ending in \ goes on with the next).
EXAMPLES = re.compile(r"^  Examples:\n((?:    bzgate .*\n(?:      .*\n)*)+)", re.MULTILINE)


def test_the_reference_is_up_to_date():
    assert cli_reference.REFERENCE.read_text(encoding="utf-8") == cli_reference.render(), (
        "docs/cli.md is out of date: run .venv/bin/python tools/cli_reference.py")


@pytest.mark.parametrize("path", CONTEXTS)
def test_a_command_says_what_it_does(path):
    assert (CONTEXTS[path].command.help or "").strip(), f"{path} has no help text"


def _examples(path: str) -> list[list[str]]:
    """The command lines of a command's Examples block, as words (empty without a block)."""
    block = EXAMPLES.search(CONTEXTS[path].get_help() + "\n")
    if block is None:
        return []
    return [shlex.split(line) for line in block[1].replace("\\\n", " ").splitlines()]


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    """The command an example runs and the words after its name."""
    command, words = main, words[1:]
    while isinstance(command, click.Group) and words and (
            sub := command.get_command(click.Context(command), words[0])) is not None:
        command, words = sub, words[1:]
    return command, words


@pytest.mark.parametrize("path", CONTEXTS)
def test_a_command_shows_examples_that_run_it(path):
    examples = _examples(path)
    assert examples, f"{path}: no Examples block in its help (keep its lines with \\b)"
    for words in examples:
        command, rest = _command(words)
        known = {name for param in command.params if isinstance(param, click.Option)
                 for name in param.opts + param.secondary_opts}
        unknown = [w.split("=")[0] for w in rest if w.startswith("-") and not w[1:2].isdigit()
                   and w.split("=")[0] not in known]
        assert not unknown, f"{path}: `{shlex.join(words)}` gives {unknown}, not {command.name}'s"
