"""How many people are inside now, per site: today's entries less today's exits (Vietnam's
day), never below 0 (people let in yesterday leave today). Entries are those the door let in (ALLOW, EXEMPT, NO_APP); exits are EXIT decisions.
A count, never a list of who.

At start, the decisions already in the database for today (`stored_today`) count for their
board until the monitor's own collection from that board counts them again (its tile's
stored counts); a gate heard live adds what it decides from then on.
"""

from bzgate.store.dialect import Connection

ENTRIES = ("allow", "exempt", "no-app")
EXITS = ("exit",)


def inside(counts: dict) -> int:
    return sum(counts.get(v, 0) for v in ENTRIES) - sum(counts.get(v, 0) for v in EXITS)


def stored_today(conn: Connection, since: int) -> dict[str, dict[str, dict]]:
    """{board_id: {site: {verdict: decisions}}} made since a time."""
    by_board: dict[str, dict[str, dict]] = {}
    for board_id, site, verdict, n in conn.execute(
            "SELECT board_id, site, verdict, count(*) FROM decisions WHERE time >= ? "
            "GROUP BY board_id, site, verdict", (since,)).fetchall():
        by_board.setdefault(board_id, {}).setdefault(site, {})[verdict] = n
    return by_board


def by_site(tiles: list[tuple[dict, dict, bool]], at_start: dict[str, dict[str, dict]]) -> dict:
    """{site: inside} from (tile, its today's counts, whether a collection counted its board's
    stored decisions) and the database's counts at start."""
    sites: dict[str, int] = {}
    counted = {tile["board_id"] for tile, _, collected in tiles if collected and tile["board_id"]}
    for board_id, per_site in at_start.items():
        if board_id not in counted:
            for site, counts in per_site.items():
                sites[site] = sites.get(site, 0) + inside(counts)
    for tile, today, _ in tiles:
        sites[tile["site"]] = sites.get(tile["site"], 0) + inside(today)
    return {site: max(0, n) for site, n in sorted(sites.items())}  # yesterday's in, gone today
