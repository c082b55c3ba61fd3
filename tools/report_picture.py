"""The README's picture of the weekly report (docs/report-docx.png): the first page of
`bzgate report --format docx`, for the organisation template's units over a made-up week 48 of
2026, rendered by LibreOffice and poppler. For the docs only; the tests read the Word file back
with python-docx instead.

    apt-get install -y libreoffice-writer poppler-utils    (not a project dependency)
    python tools/report_picture.py
"""

import calendar
import datetime as dt
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from bzgate import store

REPO = Path(__file__).resolve().parent.parent
ORG = REPO / "host" / "bzgate" / "report" / "org-template.csv"
PICTURE = REPO / "docs" / "report-docx.png"
WEEK_MONDAY = dt.date(2026, 11, 23)
# gate: (people at it each morning, share running Bluezone, exempt, exits)
GATES = {"hq-front-1": (30, 0.86, 1, 8), "hq-front-2": (12, 0.80, 0, 4),
         "hq-floor3": (16, 0.88, 0, 5), "annex-door": (22, 0.70, 1, 6), "visitor": (5, 0.6, 0, 2)}


def _week_of_decisions(db: Path) -> None:
    """Monday to Friday, from 07:30 local (00:30 UTC): each gate's people and exits."""
    conn = store.open_store(db)
    chance = random.Random(48)
    seq = 0
    with store.transaction(conn):
        for day in range(5):
            morning = calendar.timegm((WEEK_MONDAY + dt.timedelta(days=day)).timetuple()) + 1800
            for gate, (people, share, exempt, exits) in GATES.items():
                verdicts = (["exempt"] * exempt + ["exit"] * exits
                            + ["allow" if chance.random() < share else chance.choice(
                                ("deny", "no-app")) for _ in range(people)])
                for verdict in verdicts:
                    seq += 1
                    conn.execute(
                        "INSERT INTO decisions (board_id, seq, gate_id, site, time, clock_valid, "
                        "verdict, trigger, mode, id, rssi, platform, latency_ms) "
                        "VALUES (?, ?, ?, ?, ?, 1, ?, 'button', 'enforce', NULL, NULL, NULL, 5)",
                        ("b-" + gate, seq, gate, "Trụ sở", morning + 40 * seq % 5400, verdict))
    conn.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        _week_of_decisions(work / "week.db")
        report = work / "bao-cao.docx"
        subprocess.run([Path(sys.executable).parent / "bzgate", "report", "--db", work / "week.db",
                        "--org", ORG, "--week", "2026-W48", "--format", "docx", "-o", report],
                       check=True)
        subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", work,
                        report], check=True, capture_output=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        work / "bao-cao.pdf", PICTURE.with_suffix("")], check=True)
    print(f"wrote {PICTURE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
