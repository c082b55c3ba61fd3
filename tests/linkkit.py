"""A scripted peer for the host's link on a real pty: a gate that answers each request line as
the test says (the `scripted` fixture in conftest.py starts them and closes them after).

    gate = scripted(lambda req_id, command, args, error: ok(req_id, {"gate_id": "front"}))
    GateLink(gate.path)                  # the host's end; gate.requests, gate.received after
"""

import os
import pty
import threading
import tty

from bzcore import wire, wirehost


class ScriptedGate:
    """Reads request lines on the pty's far end; `answer(req_id, command, args)` returns the
    bytes to write back. Every byte the host sent is kept in .received."""

    def __init__(self, answer):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)
        self.answer = answer
        self.received = bytearray()
        self.requests = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        buffer = bytearray()
        while not self._stop:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            buffer += data
            while b"\n" in buffer:
                line, _, rest = bytes(buffer).partition(b"\n")
                buffer[:] = rest
                req_id, command, args, error = wire.parse_request(line)
                self.requests.append((command, args, len(line) + 1))
                os.write(self.master, self.answer(req_id, command, args, error))

    def close(self):
        # The slave first: the master's read then fails and the thread ends before the master's
        # descriptor is freed. Freed first, its number could go to the next test's pty while
        # this thread still reads it, answering that test's requests with this test's script.
        self._stop = True
        os.close(self.slave)
        self._thread.join(timeout=5)
        os.close(self.master)


def ok(req_id, data):
    return wirehost.reply(req_id, wire.OK, data)
