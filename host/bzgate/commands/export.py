"""`bzgate export`: stored rows to a CSV, JSON lines or xlsx file, recorded in the audit table."""

from pathlib import Path

import click

from bzgate.commands.options import (no_audit_option, open_audited, output_file, output_option,
                                     selection_options, text_output)
from bzgate.errors import UserError
from bzgate.export import tables as export
from bzgate.store import sitesecret
from bzgate.store.selection import Selection


@click.command("export")
@click.option("--what", type=click.Choice(export.WHAT), required=True,
              help="Which records to export.")
@selection_options
@click.option("--format", "fmt", type=click.Choice(export.FORMATS), default="csv",
              show_default=True, help="csv (UTF-8 with BOM, for Excel), jsonl, or xlsx (to a "
                                      "file: -o FILE).")
@click.option("--ids", type=click.Choice(export.IDS), default="hashed", show_default=True,
              help="Bluezone IDs as a keyed hash with the site secret, as they are (personal "
                   "data: needs --purpose), or left out.")
@click.option("--purpose", metavar="TEXT",
              help="Why the IDs themselves go out (e.g. the F0 case traced), for the audit "
                   "table; needed by --ids full.")
@click.option("--secret", "secret_file", type=click.Path(dir_okay=False), metavar="FILE",
              show_default="$BZGATE_SECRET, else bzgate.secret beside the database",
              help="The site secret for --ids hashed; made on first use.")
@output_option
@no_audit_option
def export_command(what, start, end, sites, gates, db, fmt, ids, purpose, secret_file,
                   output, no_audit) -> None:
    """Export sightings, decisions, counts or events for a time range, site or gate.

    Times come as UTC (ISO, Z) and local Vietnam time columns; clock_valid is false where the
    gate's clock was not set. Each export is written to the audit table (a read-only copy of
    the database: --no-audit). Visitors' Bluezone IDs are personal data, kept for tracing only:
    they are hashed unless --ids full says why.

    \b
    Examples:
      bzgate export --what decisions --from 2020-09-18 --to 2020-09-20 -o decisions.csv
      bzgate export --what sightings --site "Sở Y tế" --format xlsx -o s.xlsx
      bzgate export --what sightings --ids full --purpose "F0 case 1234 for HCDC" -o s.csv
    """
    if fmt == "xlsx" and output is None:
        raise UserError("xlsx needs a file: add -o FILE")
    purpose = (purpose or "").strip()
    if ids == "full" and not purpose:
        raise UserError("--ids full needs --purpose TEXT: visitors' Bluezone IDs are personal "
                        "data, given out for tracing only, and the audit table says why")
    if ids == "full" and no_audit:
        raise UserError("--ids full cannot go with --no-audit: the audit table keeps every "
                        "export of the IDs themselves, with its purpose")
    selection = Selection.from_options(start, end, sites, gates)
    conn, record = open_audited(db, no_audit, "export")
    detail = {"what": what, "format": fmt, "ids": ids, **selection.as_dict(),
              "output": str(output) if output else "-"}
    if purpose:
        detail["purpose"] = purpose
    id_hash = None
    if ids == "hashed":
        secret = sitesecret.load_or_create(sitesecret.secret_path(secret_file, db))
        id_hash = sitesecret.hasher(secret)
        detail["secret"] = sitesecret.fingerprint(secret)
    columns = export.Columns(what, fmt, ids, id_hash)
    rows = export.Counted(export.query(conn, what, columns, selection))
    try:
        _write(fmt, output, columns, rows, what)
    except BaseException as e:  # a closed pipe or Ctrl-C: rows may have gone out all the same
        record("export", {**detail, "rows": rows.count,
                          "result": f"stopped ({type(e).__name__})"})
        raise
    record("export", {**detail, "rows": rows.count, "result": "complete"})
    click.echo(f"{rows.count} {what} exported" + (f" to {output}" if output else "")
               + ("" if rows.count else f": none from {selection.describe()}"), err=True)


def _write(fmt: str, output: Path | None, columns, rows, title: str) -> None:
    if fmt == "xlsx":
        with output_file(output, binary=True) as f:
            export.write_xlsx(f, columns, rows, title)
        return
    write = export.write_csv if fmt == "csv" else export.write_jsonl
    with text_output(output) as f:
        write(f, columns, rows)
