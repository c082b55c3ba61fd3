"""`bzgate guards`: who may log in to the monitor's page (`bzgate monitor --guards FILE`)."""

import click

from bzgate.commands.options import guards_option
from bzgate.monitor.guards import Guards


@click.group("guards")
def guards() -> None:
    """The guards who may log in to the monitor's page: open a door for a visitor without a
    phone, collect now, see full IDs.

    \b
    Examples:
      bzgate guards add lan --guards guards.json
      bzgate monitor --all --guards guards.json --listen 0.0.0.0:8080 --hostname gate-pc.local
    """


@guards.command("add")
@click.argument("name")
@guards_option(required=True)
def guards_add(name: str, guards_path: str) -> None:
    """Add a guard, or give one a new password (asked twice, never echoed).

    \b
    Examples:
      bzgate guards add lan --guards guards.json
    """
    password = click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    new = Guards(guards_path).add(name, password)
    click.echo(f"guard {name} {'added to' if new else 'has a new password in'} {guards_path}")


@guards.command("list")
@guards_option(required=True)
def guards_list(guards_path: str) -> None:
    """The guards' names, one a line.

    \b
    Examples:
      bzgate guards list --guards guards.json
    """
    for name in Guards(guards_path).names():
        click.echo(name)


@guards.command("remove")
@click.argument("name")
@guards_option(required=True)
def guards_remove(name: str, guards_path: str) -> None:
    """Remove a guard: that name can no longer log in.

    \b
    Examples:
      bzgate guards remove lan --guards guards.json
    """
    Guards(guards_path).remove(name)
    click.echo(f"guard {name} removed from {guards_path}")
