"""The `bzgate` command: one entry point, one module per subcommand."""

import importlib.metadata
from collections.abc import Iterator

import click

from bzcore import FIRMWARE_VERSION
from bzgate.commands.ble import ble
from bzgate.commands.collect import collect_command, purge_command
from bzgate.commands.decode import decode
from bzgate.commands.export import export_command
from bzgate.commands.gate import gate
from bzgate.commands.ids import ids_command
from bzgate.commands.ingest import ingest_command
from bzgate.commands.monitor import monitor_command
from bzgate.commands.keys import keys
from bzgate.commands.provision import provision
from bzgate.commands.report import report_command
from bzgate.commands.sim import sim
from bzgate.commands.status import status_command
from bzgate.commands.trace import trace_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


main.add_command(ble)
main.add_command(collect_command)
main.add_command(decode)
main.add_command(export_command)
main.add_command(gate)
main.add_command(ids_command)
main.add_command(ingest_command)
main.add_command(keys)
main.add_command(monitor_command)
main.add_command(provision)
main.add_command(report_command)
main.add_command(purge_command)
main.add_command(sim)
main.add_command(status_command)
main.add_command(trace_command)


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
