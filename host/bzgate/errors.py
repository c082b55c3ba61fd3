"""How commands report a user's mistake: one line on stderr and a non-zero exit status."""

import click

from bzgate.textsafety import terminal_text

USAGE = 2  # bad input on the command line, as click uses for usage errors


class UserError(click.ClickException):
    """An error the user can fix; shown as one line, `bzgate: <message>`."""

    def __init__(self, message: str, exit_code: int = USAGE):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        # A message may quote a board (what mpremote saw, the gate id it answers with): control
        # characters are shown as escapes; the message's own line breaks stay.
        lines = self.format_message().split("\n")
        click.echo("bzgate: " + "\n".join(terminal_text(line) for line in lines), err=True)
