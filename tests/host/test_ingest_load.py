"""200 gates publishing for a minute through Mosquitto into two `bzgate ingest` processes of one
group and PostgreSQL: every journal stored once and in order, every gate acked to its end, and
`bzgate status` showing both ingesters beating and no gate behind."""

import json
from contextlib import closing

import psycopg
from click.testing import CliRunner
from collectkit import KEY, journal_bytes
from ingestkit import LOCAL_BROKER, ingest_process, unique
from mqttfleet import Fleet

from bzgate.cli import main
from bzgate.keys import KeyStore

GATES = 200
BATCHES = 15  # per gate, one every PACE_S: a minute of publishing
PACE_S = 3.7


def test_200_gates_for_a_minute_into_two_ingesters_of_a_group(tmp_path, pg_url, service):
    service("mosquitto")
    prefix = unique("load")
    keys = KeyStore(tmp_path / "keys.json")
    journal = journal_bytes(KEY, BATCHES * 20)  # a chain binds no board: one journal serves all
    journals = {bytes([0x30, 0xAE, 0, 0, n // 256, n % 256]): journal for n in range(GATES)}
    for board in journals:
        keys.put(board.hex(), KEY)
    options = ("--group", prefix)
    with ingest_process(LOCAL_BROKER, prefix, pg_url, keys, options=options) as one, \
            ingest_process(LOCAL_BROKER, prefix, pg_url, keys, options=options) as two:
        result = Fleet((LOCAL_BROKER.host, LOCAL_BROKER.port), prefix, journals, processes=2,
                       pace_s=PACE_S, resend_s=5).run(timeout=70)
        shown = CliRunner().invoke(main, ["status", "--db", pg_url, "--json"])
        assert one.stop() == 0 and two.stop() == 0, one.log + two.log
    assert result.complete, f"{result.resent} batches sent again"
    print(f"{len(result.lags_s)} batches in {result.seconds:.1f} s, lag p50 "
          f"{result.percentile(50):.3f} s, p99 {result.percentile(99):.3f} s")
    assert result.percentile(99) < 10
    with closing(psycopg.connect(pg_url)) as conn:
        rows = conn.execute("SELECT board_id, raw FROM records ORDER BY board_id, seq").fetchall()
    by_board: dict[str, list[bytes]] = {}
    for board_id, raw in rows:
        by_board.setdefault(board_id, []).append(bytes(raw))
    assert by_board == {board.hex(): raws for board, raws in journals.items()}
    assert one.counts["batches"] > 0 and two.counts["batches"] > 0
    status = json.loads(shown.stdout)
    assert sorted(beat["client_id"] for beat in status["ingesters"]) == sorted([one.client_id, two.client_id])
    assert all(beat["group_name"] == prefix and beat["age_s"] < 10 for beat in status["ingesters"])
    assert len(status["uplinks"]) == GATES and all(row["lag"] == 0 for row in status["uplinks"])
