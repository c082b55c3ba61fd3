"""`bzgate ids`: the rolling IDs a daily key gives, with their UTC validity."""

import datetime as dt
import json

import click

from bzcore import idexpand, ids
from bzgate.commands.options import json_option
from bzgate.errors import UserError
from bzgate.hexbytes import parse_hex

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def utc_midnight(day: str) -> int:
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise UserError(f"--day must be a date like 2020-09-18, got {day!r}") from None
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc).timestamp())


def day_report(day_key: bytes, time_start: int, max_ids: int) -> dict:
    size = ids.slot_seconds(max_ids)
    rows = [{"slot": slot, "id": ident.hex().upper(), "valid_from": time_start + slot * size,
             "valid_to": time_start + (slot + 1) * size}
            for slot, ident in enumerate(idexpand.day_ids(day_key, max_ids))]
    return {"daily_key": day_key.hex().upper(), "time_start": time_start, "max": max_ids,
            "ids": rows}


def _clock(t: int, zone: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %H:%M")


@click.command(name="ids")
@click.option("--daily-key", "key_hex", required=True, metavar="HEX64",
              help="The 32-byte daily key, as 64 hex digits.")
@click.option("--day", metavar="YYYY-MM-DD", help="The UTC day the key belongs to.")
@click.option("--time-start", type=int, metavar="UNIX",
              help="The same as a Unix time: 00:00 UTC of the key's day.")
@click.option("--max", "max_ids", type=int, default=96, show_default=True,
              help="IDs per day (96 since July 2020; 144 for Android v2.0).")
@json_option
def ids_command(key_hex: str, day: str | None, time_start: int | None, max_ids: int,
                as_json: bool) -> None:
    """List the Bluezone IDs a phone broadcasts on one UTC day, given its daily key.

    \b
    Examples:
      bzgate ids --daily-key 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F \\
                 --day 2020-09-18
    """
    day_key = parse_hex(key_hex, "--daily-key", size=ids.KEY_BYTES)
    if (day is None) == (time_start is None):
        raise UserError("give exactly one of --day and --time-start")
    start = utc_midnight(day) if day is not None else time_start
    assert start is not None
    if start != ids.day_start(start):
        raise UserError(f"--time-start must be 00:00 UTC of a day; {start} is "
                        f"{_clock(start, dt.timezone.utc)} UTC")
    try:
        report = day_report(day_key, start, max_ids)
    except ValueError as exc:
        raise UserError(f"--max {max_ids}: {exc}") from None
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"daily key {report['daily_key']}, {max_ids} IDs of "
               f"{ids.slot_seconds(max_ids)} s from {_clock(start, dt.timezone.utc)} UTC")
    click.echo("slot  id                        valid from (UTC)  valid to (UTC)    from (ICT)")
    for row in report["ids"]:
        click.echo(f"{row['slot']:>4}  {row['id']}  {_clock(row['valid_from'], dt.timezone.utc)}"
                   f"  {_clock(row['valid_to'], dt.timezone.utc)}  "
                   f"{_clock(row['valid_from'], VIETNAM)}")
