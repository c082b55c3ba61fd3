"""docs/cli.md, the `bzgate` command reference: every command's --help as bzgate prints it on an
80-column terminal, in the order --help lists them. The README tells the story; this is the
detail, made from the commands themselves so it cannot drift from them.

    python tools/cli_reference.py            # writes docs/cli.md
    python tools/cli_reference.py --check    # exit status 1 when docs/cli.md is out of date
"""

import argparse
import sys
from pathlib import Path

from bzgate.cli import HELP_WIDTH, command_contexts

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
HEADER = f"""# bzgate command reference

Every command's `--help`, as `bzgate` prints it on a terminal {HELP_WIDTH} columns wide. Made
by `tools/cli_reference.py` from the commands themselves: edit their help there, then run it
again. The README tells how the commands fit together.
"""


def _anchor(title: str) -> str:
    """The anchor GitHub gives a heading made of words and spaces."""
    return title.lower().replace(" ", "-")


def render() -> str:
    """The whole reference: a list of the commands, then each one's help."""
    contexts = list(command_contexts())
    index = [f"{'  ' * (ctx.command_path.count(' '))}- [`{ctx.command_path}`]"
             f"(#{_anchor(ctx.command_path)})" for ctx in contexts]
    sections = [f"## {ctx.command_path}\n\n```text\n{ctx.get_help()}\n```" for ctx in contexts]
    return "\n\n".join([HEADER.rstrip(), "\n".join(index), *sections]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit status 1 when the reference is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
        if current != text:
            print(f"{REFERENCE} is out of date: run python tools/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    REFERENCE.write_text(text, encoding="utf-8")
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
