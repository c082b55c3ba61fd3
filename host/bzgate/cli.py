"""The `bzgate` command: one entry point, one module per subcommand."""

import importlib
import importlib.metadata
from collections.abc import Iterator

import click

from bzcore import FIRMWARE_VERSION

# Each command's module is imported when it runs: matplotlib, openpyxl and bleak take about a
# second to load, and `bzgate collect` on a guard's PC needs none of them.
COMMANDS = {
    "ble": "bzgate.commands.ble:ble",
    "collect": "bzgate.commands.collect:collect_command",
    "decode": "bzgate.commands.decode:decode",
    "export": "bzgate.commands.export:export_command",
    "gate": "bzgate.commands.gate:gate",
    "guards": "bzgate.commands.guards:guards",
    "ids": "bzgate.commands.ids:ids_command",
    "ingest": "bzgate.commands.ingest:ingest_command",
    "keys": "bzgate.commands.keys:keys",
    "monitor": "bzgate.commands.monitor:monitor_command",
    "provision": "bzgate.commands.provision:provision",
    "purge": "bzgate.commands.collect:purge_command",
    "report": "bzgate.commands.report:report_command",
    "sim": "bzgate.commands.sim:sim",
    "status": "bzgate.commands.status:status_command",
    "trace": "bzgate.commands.trace:trace_command",
}


class LazyGroup(click.Group):
    """A group whose commands are named here and imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        return getattr(importlib.import_module(module), name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(importlib.metadata.version("bzgate"), prog_name="bzgate",
                      message=f"%(prog)s, version %(version)s (deploys gate firmware {FIRMWARE_VERSION})")
def main() -> None:
    """bzgate: Bluezone checkpoint gates, from the board at the door to the agency's report.

    \b
    Examples:
      bzgate provision configure --port /dev/ttyUSB0 --gate-id hq-front-1 --site "Head office"
      bzgate collect --all --db bzgate.db
      bzgate report --from 2020-09-14 --to 2020-09-20 -o week38.html
    """


HELP_WIDTH = 80  # the terminal the CLI reference is rendered for


def command_contexts() -> Iterator[click.Context]:
    """A context for `bzgate` and for each of its commands and subcommands, in the order --help
    lists them: what the CLI reference renders and the option checks walk."""
    def walk(ctx: click.Context) -> Iterator[click.Context]:
        yield ctx
        if isinstance(ctx.command, click.Group):
            for name in ctx.command.list_commands(ctx):
                command = ctx.command.get_command(ctx, name)
                yield from walk(command.make_context(name, [], parent=ctx, resilient_parsing=True))
    yield from walk(main.make_context("bzgate", [], resilient_parsing=True,
                                      terminal_width=HELP_WIDTH))
