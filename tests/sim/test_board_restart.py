"""A board keeps its files, NVS and identity across restarts; `bzgate sim` commands control it."""

import json
import subprocess

from boardkit import BIN, start_virtual_board


def bzgate_sim(*args: str) -> str:
    return subprocess.run([str(BIN / "bzgate"), "sim", *args], capture_output=True, text=True,
                          check=True, timeout=20).stdout


def test_files_nvs_and_unique_id_survive_a_restart(board):
    before = board.mpremote("exec", "import esp32, machine\nn = esp32.NVS('id')\nn.set_i32('n', 41)\n"
                            "n.commit()\nwith open('/keep.txt', 'w') as f:\n f.write('kept')\n"
                            "print(machine.unique_id().hex())").stdout.strip()
    assert board.stop() == 0
    again = start_virtual_board(board.flash)
    try:
        out = again.mpremote("exec", "import esp32, machine\nprint(machine.unique_id().hex(), "
                             "esp32.NVS('id').get_i32('n'), open('/keep.txt').read())").stdout.split()
        assert out == [before, "41", "kept"]
    finally:
        again.stop()


def test_cli_presses_reads_pins_cuts_power_and_shows_the_console(board):
    flash = str(board.flash)
    board.mpremote("exec", "from machine import Pin\nbuzzer = Pin(25, Pin.OUT, value=1)\n"
                   "beam = Pin(14, Pin.IN, Pin.PULL_DOWN)\nprint('ready')")
    bzgate_sim("drive", "--flash", flash, "14", "1")
    assert board.resume_exec("print(beam.value())").strip() == "1"
    bzgate_sim("press", "--flash", flash, "14", "--level", "0", "--seconds", "5")
    pins = json.loads(bzgate_sim("pins", "--flash", flash, "--json"))
    assert pins["outputs"]["25"] == 1 and pins["driven"]["14"] == 0
    assert "ready" in bzgate_sim("console", "--flash", flash)
    bzgate_sim("power", "--flash", flash, "off")
    assert board.control.status()["powered"] is False
    assert board.control.output(25) is None  # an unpowered board drives nothing
    bzgate_sim("power", "--flash", flash, "on")
    assert board.control.status()["reset_cause"] == 1


def test_cli_says_what_to_do_when_no_board_runs(tmp_path):
    result = subprocess.run([str(BIN / "bzgate"), "sim", "pins", "--flash", str(tmp_path)],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode != 0 and "bzgate sim board --flash" in result.stderr
