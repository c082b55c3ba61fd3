"""The gate forgets the modules it needs only at boot and for CONFIG requests (gate.bootonly):
once it runs, and again after each CONFIG request, bzcore.config, its checks and uplinkconfig
are neither in sys.modules nor in the package, and CONFIG SET still checks and applies fields."""

from gatekit import start_gate, stop_gate

from bzgate.link.serial import LinkError

LOADED = ("import sys, bzcore; print('LOADED', [n for n in ('config', 'checks', 'uplinkconfig') "
          "if 'bzcore.' + n in sys.modules or hasattr(bzcore, n)])")


def test_the_boot_only_modules_are_forgotten_once_running_and_after_config_requests(tmp_path):
    board = start_gate(tmp_path, config={"trigger": "button"})
    try:
        with board.link() as link:
            assert link.config_get()["near_rssi"] == -60  # the default
            try:
                link.config_set({"near_rssi": 5})
            except LinkError as e:
                assert "not allowed" in str(e)
            else:
                raise AssertionError("a near_rssi of 5 was applied")
            link.config_set({"near_rssi": -61})
            assert link.config_get()["near_rssi"] == -61
        out = board.resume_exec(LOADED)  # breaks in, no soft reset: the interpreter as the gate left it
        assert "LOADED []" in out, out
    finally:
        stop_gate(board)
