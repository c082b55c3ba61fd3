"""Provisioning against four virtual boards with an empty flash, with the real mpremote and
bzgate commands: board 0 has MicroPython as micropython.org builds it (no ROMFS: the firmware
goes as files), boards 1-3 bzgate's image (the modules go into the ROMFS). A deploy killed
midway, of files and of the ROMFS image, then finished by a re-run; a fleet of four deployed,
configured and verified in parallel (and skipped when run again), verify failing on a board
whose key differs from the host's until `keys import`."""

import hashlib
import json
import os
import signal
import subprocess
import time

import pytest
from provkit import BIN, bzgate, start_boards, stop_boards

from bzgate.link.serial import GateLink, LinkError
from bzprov.build import MPY_CROSS, build, is_entry_point, mpy_cross_version, romfs_image
from bzprov.configure import wait_for_gate
from bzprov.virtual import ROMFS_PARTITION

OLD_MAIN = b"print('old firmware')\n"


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    return tmp_path_factory.mktemp("prov")


@pytest.fixture(scope="module")
def boards(where):
    old = where / "flash0"  # board 0 carries an older firmware's main.py and a stale module
    (old / "gate").mkdir(parents=True)
    (old / "main.py").write_bytes(OLD_MAIN)
    (old / "gate" / "stale.mpy").write_bytes(b"M\x06old")
    started = start_boards(where, 4, lambda k: ("--no-romfs",) if k == 0 else ())
    yield started
    stop_boards(started)


def _nvs(flash):
    return json.loads((flash / ".bzsim" / "nvs-bzgate.json").read_text())


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _deployed(flash, arch):
    """{board path: sha256} wanted, and what the board's flash holds for those paths."""
    wanted = {p: _sha(local) for p, local in build(flash.parent / f"build-{flash.name}", arch).items()}
    held = {p: _sha(flash / p.lstrip("/")) for p in wanted if (flash / p.lstrip("/")).is_file()}
    return wanted, held


def test_a_deploy_killed_midway_is_finished_by_running_it_again(where, boards):
    board, flash = boards[0], where / "flash0"
    deploy = subprocess.Popen([str(BIN / "bzgate"), "provision", "deploy", "--port", board.serial],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(flash.glob("*/*.mpy"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(deploy.pid, signal.SIGKILL)  # bzgate and the mpremote copying for it
    deploy.wait()

    wanted, held = _deployed(flash, "x64")
    assert not (flash / "main.py").exists()  # removed before any copy: no half firmware boots
    assert held != wanted

    again = bzgate(where, "provision", "deploy", "--port", board.serial)
    assert again.returncode == 0, again.stderr
    wanted, held = _deployed(flash, "x64")
    assert held == wanted
    assert not (flash / "gate" / "stale.mpy").exists()  # stale files go with the old main.py, first
    copied = int(again.stdout.split(" copied,")[0].rsplit("\n", 1)[-1])
    assert 0 < copied < len(wanted)  # what the first run finished was skipped
    assert "the board waits at its REPL" in again.stdout  # no config.json yet: the gate waits
    assert "romfs      none on this board" in again.stdout


def _rom_image(flash):
    """The image in a board's ROMFS partition (its length from the header's varint)."""
    held = (flash / ROMFS_PARTITION).read_bytes()
    if held[:3] != b"\xd2\xcd\x31":
        return None
    n, i = 0, 3
    while True:
        n, i = (n << 7) | (held[i] & 0x7F), i + 1
        if not held[i - 1] & 0x80:
            return held[:i + n]


def test_a_romfs_deploy_killed_midway_is_finished_by_running_it_again(where, boards):
    board, flash = boards[3], where / "flash3"
    (flash / "gate").mkdir()  # a module left as a file would be found before the ROMFS's
    (flash / "gate" / "policy.mpy").write_bytes(b"M\x06old")
    deploy = subprocess.Popen([str(BIN / "bzgate"), "provision", "deploy", "--port", board.serial],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while _rom_image(flash) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(deploy.pid, signal.SIGKILL)  # bzgate and the mpremote writing the image for it
    deploy.wait()
    files = build(flash.parent / "build-rom", "x64")
    wanted = romfs_image(files)
    assert _rom_image(flash) != wanted  # cut off while the image was being written
    assert not (flash / "main.py").exists()

    again = bzgate(where, "provision", "deploy", "--port", board.serial)
    assert again.returncode == 0, again.stderr
    assert _rom_image(flash) == wanted
    assert f"romfs      written: {len(wanted):,} bytes of the partition's 131,072" in again.stdout
    assert sorted(p.name for p in flash.iterdir() if not p.name.startswith(".")) == ["boot.py", "main.py"]
    for remote, local in files.items():
        if is_entry_point(remote):
            assert _sha(flash / remote.lstrip("/")) == _sha(local)
    out = board.mpremote("soft-reset", "+", "exec", "import gate.app; print(gate.app.__file__)").stdout
    assert out.split()[-1] == "/rom/gate/app.mpy"
    unchanged = bzgate(where, "provision", "deploy", "--port", board.serial)
    assert "romfs      unchanged" in unchanged.stdout and "0 copied" in unchanged.stdout


def test_the_board_loads_bytecode_compiled_for_the_esp32(where, boards):
    board = boards[1]
    source = where / "probe.py"
    source.write_text("ANSWER = 6 * 7\n")
    compiled = where / "probe.mpy"
    subprocess.run([str(MPY_CROSS), "-march=xtensawin", "-o", str(compiled), str(source)], check=True)
    out = board.mpremote("fs", "cp", str(compiled), ":probe.mpy", "+", "exec",
                         "import sys, probe; print(probe.ANSWER, sys.implementation._mpy)").stdout
    answer, mpy = out.split()[-2:]
    assert answer == "42"
    assert (int(mpy) & 0xFF, int(mpy) >> 8 & 3) == mpy_cross_version()
    board.mpremote("exec", "import os; os.remove('probe.mpy')")


def test_configure_on_a_new_board_needs_its_site(where, boards):
    board = boards[2]
    refused = bzgate(where, "provision", "configure", "--port", board.serial, "--gate-id", "door-2")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "site: the board has no configuration yet, so it must be given" in refused.stderr
    assert not (where / "flash2" / "config.json").exists()


def _fleet_file(where, boards):
    rows = ["port,gate_id,site,location,mode,trigger,near_rssi"]
    rows += [f"{b.serial},door-{k},HQ,floor {k},{'monitor' if k % 2 else 'enforce'},button,-6{k}"
             for k, b in enumerate(boards)]
    path = where / "fleet.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_fleet_of_four_is_deployed_configured_and_verified_in_parallel(where, boards):
    fleet = _fleet_file(where, boards)
    run = bzgate(where, "provision", "fleet", str(fleet), "--parallel", "4")
    assert run.returncode == 0, run.stdout + run.stderr + "\nboard 0 showed:\n" + boards[0].control.console()[-1500:]
    assert "4 of 4 boards done" in run.stdout
    for k in range(4):
        assert f"[door-{k}] verify ok" in run.stdout

    uids = [b.control.status()["uid"] for b in boards]
    keys = json.loads((where / "keys.json").read_text())["boards"]
    assert sorted(keys) == sorted(uids)
    assert oct((where / "keys.json").stat().st_mode & 0o777) == "0o600"
    inventory = json.loads((where / "inventory.json").read_text())["boards"]
    for k, (board, uid) in enumerate(zip(boards, uids)):
        assert inventory[uid]["gate_id"] == f"door-{k}" and inventory[uid]["location"] == f"floor {k}"
        with GateLink(board.serial) as link:
            assert link.hello()["gate_id"] == f"door-{k}"
            assert link.config_get()["near_rssi"] == -60 - k
            assert link.status()["clock_valid"] is True
    assert all(key not in run.stdout + run.stderr for key in (e["key"] for e in keys.values()))
    for k, uid in enumerate(uids):  # each board's checkpoint key K0: in the store and in its NVS
        entry = keys[uid]
        assert entry["gate_id"] == f"door-{k}" and entry["checkpoint_day"] % 86400 == 0
        assert _nvs(where / f"flash{k}")["cpkey"] == ["b", entry["checkpoint_key"]]
        assert _nvs(where / f"flash{k}")["cpday"] == ["i", entry["checkpoint_day"] // 86400]
        assert entry["checkpoint_key"] not in run.stdout + run.stderr
    assert len({e["checkpoint_key"] for e in keys.values()}) == 4

    listed = bzgate(where, "provision", "list")
    for k, board in enumerate(boards):
        assert any(board.serial in line and f"gate door-{k}" in line for line in listed.stdout.splitlines())

    again = bzgate(where, "provision", "fleet", str(fleet))
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("skipped") == 12 and "..." not in again.stdout


def _on_flash(where, k):
    return json.loads((where / f"flash{k}" / "config.json").read_text())


def test_configure_keeps_the_boards_fields_and_prints_what_changes(where, boards):
    board, configure = boards[1], ("provision", "configure", "--port", boards[1].serial, "--gate-id", "door-1")
    site = bzgate(where, *configure, "--site", "HQ 2")  # door-1 runs in monitor mode, near_rssi -61
    assert site.returncode == 0, site.stdout + site.stderr
    assert 'config: site: "HQ" → "HQ 2"' in site.stdout.splitlines()
    assert [line for line in site.stdout.splitlines() if line.startswith("config: ")] == ['config: site: "HQ" → "HQ 2"']
    with GateLink(board.serial) as link:
        running = link.config_get()
    assert (running["mode"], running["near_rssi"], running["site"]) == ("monitor", -61, "HQ 2")
    uid = board.control.status()["uid"]
    assert json.loads((where / "inventory.json").read_text())["boards"][uid]["location"] == "floor 1"

    again = bzgate(where, *configure)
    assert again.returncode == 0 and "config: nothing changes" in again.stdout.splitlines()

    wifi = bzgate(where, *configure, "--set", 'wifi={"ssid": "gate-lan", "password": "correct horse"}')
    assert 'config: wifi: null → {"ssid": "gate-lan", "password": "***"}' in wifi.stdout.splitlines()
    assert "correct horse" not in wifi.stdout + wifi.stderr
    shown = bzgate(where, *configure, "--set", 'wifi={"ssid": "gate-lan-2", "password": "***"}')
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert _on_flash(where, 1)["wifi"] == {"ssid": "gate-lan-2", "password": "correct horse"}
    assert "warning" not in shown.stdout  # Wi-Fi alone: no uplink to start
    uplink = bzgate(where, *configure, "--set", 'mqtt={"host": "127.0.0.1", "port": 1883, "topic_prefix": "bzgate"}')
    assert uplink.returncode == 0, uplink.stdout + uplink.stderr  # configured: the gate decides without it
    assert "warning: Wi-Fi and MQTT are configured, but this board has too little heap" in uplink.stdout  # a WROOM-32

    keep = where / "keep.csv"  # a fleet row's empty cells keep the board's fields too
    keep.write_text(f"port,gate_id,site,mode,wifi,mqtt\n{board.serial},door-1,,,off,off\n")
    fleet = bzgate(where, "provision", "fleet", str(keep), "--steps", "configure")
    assert fleet.returncode == 0, fleet.stdout + fleet.stderr
    assert '[door-1] config: wifi: {"ssid": "gate-lan-2", "password": "***"} → null' in fleet.stdout.splitlines()
    assert "warning" not in fleet.stdout
    on_flash = _on_flash(where, 1)
    assert (on_flash["mode"], on_flash["site"], on_flash["wifi"]) == ("monitor", "HQ 2", None)

    no_secret = bzgate(where, *configure, "--set", 'wifi={"ssid": "gate-lan", "password": "***"}')
    assert no_secret.returncode == 2  # *** keeps a password the board does not have
    assert "the board's configuration is unchanged:\n  wifi.password:" in no_secret.stderr
    assert wait_for_gate(board.serial)["gate_id"] == "door-1"  # the gate runs on as it was
    assert _on_flash(where, 1) == on_flash


def test_verify_fails_when_the_boards_key_differs_until_keys_import(where, boards):
    board = boards[3]
    other = os.urandom(32)
    board.mpremote("exec", f"import esp32\nn = esp32.NVS('bzgate')\nn.set_blob('key', {other!r})\nn.commit()",
                   "+", "reset")
    failed = bzgate(where, "provision", "verify", "--port", board.serial)
    assert failed.returncode == 1
    assert "FAIL  key" in failed.stdout and "PASS  clock" in failed.stdout
    assert other.hex() not in failed.stdout

    imported = bzgate(where, "keys", "import", "--port", board.serial)
    assert imported.returncode == 0, imported.stderr
    assert "replaced" in imported.stdout and other.hex() not in imported.stdout
    assert json.loads((where / "keys.json").read_text())["boards"][board.control.status()["uid"]]["key"] == other.hex()
    passed = bzgate(where, "provision", "verify", "--port", board.serial)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "PASS  key" in passed.stdout

    again = bzgate(where, "provision", "configure", "--port", board.serial, "--gate-id", "door-3b", "--site", "HQ")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "key: the one the host store holds for this board" in again.stdout  # not replaced
    uid = board.control.status()["uid"]
    entry = json.loads((where / "keys.json").read_text())["boards"][uid]
    assert entry["gate_id"] == "door-3b"  # the same K0 as before, now traced to the new gate id
    assert _nvs(where / "flash3")["cpkey"] == ["b", entry["checkpoint_key"]]
    with GateLink(board.serial) as link:
        assert link.hello()["gate_id"] == "door-3b"


def test_key_prove_takes_only_a_nonce_of_the_right_size(boards):
    with GateLink(boards[2].serial) as link:
        for bad in (b"", bytes(15), bytes(17)):
            with pytest.raises(LinkError) as refused:
                link.key_prove(bad)
            assert refused.value.code == "bad-args"
        assert len(link.key_prove(bytes(16))) == 64
