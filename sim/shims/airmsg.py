# Message numbers between the simulated air and the virtual board's `bluetooth` shim, and
# their payloads: the one definition, imported by the shim (MicroPython) as `airmsg` and by
# the host side (CPython) as bzsim.shims.airmsg (bzsim.air.server.wire adds the payload layouts).
#
# Types 0x01-0x3F. Integers are big-endian; conn, handles, status: 2 bytes.
#   board -> air
#   HELLO            mac(6) name(utf-8)
#   SCAN_START       gen(1) duration_ms(4, 0 = forever) interval_us(4) window_us(4) active(1)
#   SCAN_STOP        gen(1)
#   CONNECT          seq(1) addr_type(1) addr(6) timeout_ms(4)
#   CONNECT_CANCEL   seq(1)
#   DISCONNECT       conn
#   DISCOVER_SERVICES conn uuid(0, 2 or 16 bytes, little-endian as on air)
#   DISCOVER_CHARS   conn start end uuid(0, 2 or 16)
#   READ             conn handle
#   ADVERTISE        interval_us(4, 0 = stop) connectable(1) adv_len(1) adv resp
#   SUBSCRIBE        (control clients: the air then sends EVENT frames)
#   WIFI_QUERY       name(utf-8) (board bridges: the air answers WIFI_PLAN)
#   GATE_SIGNAL      JSON {"board", "relay", "red", "green"} (board bridges, on their SUBSCRIBE
#                    connection: the gate's outputs changed, 1 = on; see bzsim.air.visitors)
#   GATES_QUERY      (the air answers GATES)
#   air -> board
#   SCAN_RESULT      gen(1) addr_type(1) addr(6) adv_type(1) rssi(1, signed) data
#   SCAN_DONE        gen(1)
#   CONNECTED        seq(1) conn addr_type(1) addr(6)
#   CONNECT_FAILED   seq(1)
#   DISCONNECTED     conn addr_type(1) addr(6)
#   SERVICE_RESULT   conn start end uuid
#   SERVICE_DONE     conn status
#   CHAR_RESULT      conn end value_handle props(1) uuid
#   CHAR_DONE        conn status
#   READ_RESULT      conn handle data
#   READ_DONE        conn handle status
#   EVENT            JSON (a press, a board joining or leaving; see bzsim.air.server)
#   WIFI_PLAN        JSON (the access point at that name's gate; see bzsim.air.wifi)
#   GATES            JSON list of the scenario's gate names ([] without a scenario)

HELLO = 0x01
SCAN_START = 0x02
SCAN_STOP = 0x03
CONNECT = 0x04
CONNECT_CANCEL = 0x05
DISCONNECT = 0x06
DISCOVER_SERVICES = 0x07
DISCOVER_CHARS = 0x08
READ = 0x09
ADVERTISE = 0x0A
SUBSCRIBE = 0x10
WIFI_QUERY = 0x11
GATE_SIGNAL = 0x12
GATES_QUERY = 0x13
SCAN_RESULT = 0x21
SCAN_DONE = 0x22
CONNECTED = 0x23
CONNECT_FAILED = 0x24
DISCONNECTED = 0x25
SERVICE_RESULT = 0x26
SERVICE_DONE = 0x27
CHAR_RESULT = 0x28
CHAR_DONE = 0x29
READ_RESULT = 0x2A
READ_DONE = 0x2B
EVENT = 0x30
WIFI_PLAN = 0x31
GATES = 0x32
