"""The `bzgate` command: one entry point, one module per subcommand."""

import importlib.metadata

import click

from bzgate.commands.ble import ble
from bzgate.commands.collect import collect_command, purge_command
from bzgate.commands.decode import decode
from bzgate.commands.export import export_command
from bzgate.commands.gate import gate
from bzgate.commands.ids import ids_command
from bzgate.commands.ingest import ingest_command
from bzgate.commands.monitor import monitor_command
from bzgate.commands.provision import keys, provision
from bzgate.commands.report import report_command
from bzgate.commands.sim import sim
from bzgate.commands.status import status_command
from bzgate.commands.trace import trace_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(importlib.metadata.version("bzgate"), prog_name="bzgate")
def main() -> None:
    """bzgate: Bluezone checkpoint gates, from the board at the door to the agency's report."""


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
