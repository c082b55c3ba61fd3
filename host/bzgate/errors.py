"""How commands report a user's mistake: one line on stderr and a non-zero exit status."""

import click

USAGE = 2  # bad input on the command line, as click uses for usage errors


class UserError(click.ClickException):
    """An error the user can fix; shown as one line, `bzgate: <message>`."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"bzgate: {self.format_message()}", err=True)
