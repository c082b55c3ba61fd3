"""One option name, one meaning: wherever `bzgate` takes an option, it has the same type, help
and shown default as everywhere else it is taken."""

import re
from collections import defaultdict

import click
import pytest

from bzgate.cli import command_contexts

# Names that stand for different things in different commands. Each meaning is still written
# once, so each name has exactly this many definitions; every other name has one.
MEANINGS = {
    "--port": 2,  # one board's port (gate, provision, keys); gates' ports, repeatable (collect...)
    "--format": 2,  # export's file formats; report's
    "--site": 2,  # the gate's own site (ble gate, provision configure); a filter (export, report)
    "--seconds": 4,  # how long ble scan listens, ble gate runs, sim press holds the pin, field-check measures
    "--json": 2,  # a flag: JSON for scripts; provision field-check's report file, for a bug report
    "--listen": 2,  # where the monitor serves its page; where the simulated air listens
    "--air": 2,  # the BLE commands' radio (else $BZSIM_AIR); the air a virtual board joins
    "--scenario": 2,  # what sim air plays; what sim board's private air plays
}


def _options():
    """(command path, click.Context, click.Option) of every option in the command tree."""
    for ctx in command_contexts():
        for param in ctx.command.params:
            if isinstance(param, click.Option):
                yield ctx.command_path, ctx, param


def _definition(option: click.Option, ctx: click.Context) -> tuple:
    """What a user sees of an option: its names, type, value, help and the default click shows."""
    return (tuple(option.opts), repr(option.type.to_info_dict()), option.multiple,
            option.is_flag, option.metavar, option.help, option.get_help_extra(ctx).get("default"))


def _definitions() -> dict[str, dict[tuple, list[str]]]:
    """{option name: {definition: the commands that define it so}}."""
    found = defaultdict(lambda: defaultdict(list))
    for path, ctx, option in _options():
        for name in option.opts + option.secondary_opts:
            found[name][_definition(option, ctx)].append(path)
    return found


DEFINITIONS = _definitions()


@pytest.mark.parametrize("name", sorted(DEFINITIONS.keys() | MEANINGS.keys()))
def test_an_option_is_defined_the_same_in_every_command(name):
    definitions = DEFINITIONS.get(name, {})
    shown = "\n".join(f"{', '.join(paths)}: {definition}"
                      for definition, paths in definitions.items())
    assert len(definitions) == MEANINGS.get(name, 1), f"{name} is defined\n{shown}"


@pytest.mark.parametrize("path, ctx, option", [
    pytest.param(path, ctx, option, id=f"{path} {option.opts[-1]}")
    for path, ctx, option in _options() if option.help])
def test_a_default_is_shown_by_click_not_written_into_the_help(path, ctx, option):
    assert not re.search(r"\bdefault\s*:", option.help, re.IGNORECASE), option.help
