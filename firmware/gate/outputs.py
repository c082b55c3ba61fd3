"""What the gate shows: the relay, the green and red LEDs and the buzzer.

Pins come from the config's board profile (bzcore.config.board_pins: role -> (gpio,
active_low) or None). The relay's safe state is off (the door stays locked): relay_safe() puts
it there from boot.py before anything else runs, and Outputs returns it there after each pulse
and on safe().

    ALLOW   green LED 2 s, short beep (0.1 s), relay pulse of relay_pulse_ms
    DENY    red LED 2 s, long beep (0.8 s), relay stays off
    NO_APP  (monitor mode) red LED 2 s, long beep, relay pulse (monitor never blocks anyone)
    EXEMPT  green LED 2 s, two short beeps (0.1 s, a 0.1 s pause, 0.1 s), relay pulse: a person
            without a smartphone let in on the guard's word; the guard hears it apart from ALLOW
    EXIT    green LED 0.5 s, no beep, relay pulse: someone leaving
    checking  green LED blinking (0.25 s on, 0.25 s off) while a press waits for a phone,
            until the verdict shows
A pulse that comes while the relay is still open from the one before starts after the relay
has dropped for _RELAY_GAP_MS: a turnstile counts one passage per pulse, so each ALLOW must be
an edge of its own.
    config errors: slow red blink (1 s on, 1 s off) while idle
    safe mode: fast red blink (0.2 s on, 0.2 s off), relay off

The run() task turns deadlines into pin levels every _TICK_MS; show_*() only set deadlines, so
a decision returns at once.
"""

import time

import asyncio
from machine import Pin
from micropython import const

_LED_MS = const(2000)
_SHORT_BEEP_MS = const(100)
_LONG_BEEP_MS = const(800)
_EXIT_LED_MS = const(500)
_TICK_MS = const(20)
_SLOW_BLINK_MS = const(1000)
_FAST_BLINK_MS = const(200)
_CHECKING_BLINK_MS = const(250)
_RELAY_GAP_MS = const(150)
_TEST_MS = const(250)  # each output on, then off, this long in a self-test

_BLINK_NONE = const(0)
BLINK_SLOW = const(1)  # a configuration error
BLINK_FAST = const(2)  # safe mode


class _Out:
    """One output role: on/off with its active level; nothing when the board lacks it."""

    def __init__(self, spec):
        self.pin = None
        if spec is not None:
            self.active = 0 if spec[1] else 1
            self.pin = Pin(spec[0], Pin.OUT, value=1 - self.active)

    def set(self, on):
        if self.pin is not None:
            self.pin.value(self.active if on else 1 - self.active)

    def is_on(self):
        """The level the pad reads back (an ESP32 output pad keeps its input on)."""
        return self.pin is not None and self.pin.value() == self.active


def relay_safe(path="/config.json"):
    """Relay off, from the board profile in config.json (defaults when it cannot be read)."""
    from bzcore import config  # boot-time only: the gate drops it once running (gate.app)

    try:
        with open(path) as f:
            cfg = config.load(f.read())[0]
    except Exception:  # noqa: BLE001 - no file, no flash: the default profile's relay
        cfg = config.defaults()
    _Out(config.board_pins(cfg)["relay"]).set(False)


class Outputs:
    def __init__(self, pins, roles):
        self.roles = roles  # bzcore.config.OUTPUT_ROLES, in self-test order
        self.relay = _Out(pins["relay"])
        self.green = _Out(pins["green"])
        self.red = _Out(pins["red"])
        self.buzzer = _Out(pins["buzzer"])
        now = time.ticks_ms()
        self._relay_from = now
        self._relay_until = now
        self._green_until = now
        self._red_until = now
        self._beep_until = now
        self._beep2_from = now  # EXEMPT's second beep
        self._beep2_until = now
        self.blink = _BLINK_NONE
        self.checking = False
        self.pulses = 0
        self._testing = False

    def _until(self, ms):
        return time.ticks_add(time.ticks_ms(), ms)

    def show_checking(self):
        """Blink green until the verdict: the gate heard the press and is looking for the phone."""
        self.checking = True
        self.update()

    def show_allow(self, pulse_ms):
        self._show_green(_LED_MS, _SHORT_BEEP_MS)
        self._pulse(pulse_ms)

    def show_exempt(self, pulse_ms):
        self._show_green(_LED_MS, _SHORT_BEEP_MS)
        self._beep2_from = self._until(2 * _SHORT_BEEP_MS)
        self._beep2_until = self._until(3 * _SHORT_BEEP_MS)
        self._pulse(pulse_ms)

    def show_exit(self, pulse_ms):
        self._show_green(_EXIT_LED_MS, 0)
        self._pulse(pulse_ms)

    def _show_green(self, led_ms, beep_ms):
        self.checking = False
        self._green_until = self._until(led_ms)
        self._red_until = time.ticks_ms()
        self._beep_until = self._until(beep_ms)

    def show_deny(self):
        self.checking = False
        self._red_until = self._until(_LED_MS)
        self._green_until = time.ticks_ms()
        self._beep_until = self._until(_LONG_BEEP_MS)
        self.update()

    def show_no_app(self, pulse_ms):
        self.show_deny()
        self._pulse(pulse_ms)

    def _pulse(self, ms):
        now = time.ticks_ms()
        gap = _RELAY_GAP_MS if time.ticks_diff(self._relay_until, now) > 0 else 0
        self._relay_from = time.ticks_add(now, gap)
        self._relay_until = time.ticks_add(self._relay_from, ms)
        self.pulses += 1
        self.update()  # at once: the decision's latency ends here

    def safe(self):
        """Everything off now and no pulse pending (a crash, maintenance, safe mode)."""
        now = time.ticks_ms()
        self._relay_until = self._green_until = self._red_until = self._beep_until = now
        self._beep2_until = now
        self.checking = False
        self.relay.set(False)
        self.green.set(False)
        self.red.set(False)
        self.buzzer.set(False)

    async def self_test(self):
        """Each output on, then off, in turn: {role: the pin followed both}; boards without a
        role leave it out. Decisions meanwhile are logged; their lights wait for the end."""
        self._testing = True
        results = {}
        try:
            for name in self.roles:
                out = getattr(self, name)
                if out.pin is None:
                    continue
                out.set(True)
                await asyncio.sleep_ms(_TEST_MS)
                came_on = out.is_on()
                out.set(False)
                await asyncio.sleep_ms(_TEST_MS)
                results[name] = came_on and not out.is_on()
        finally:
            self._testing = False
        return results

    def update(self):
        if self._testing:
            return
        now = time.ticks_ms()
        self.relay.set(time.ticks_diff(now, self._relay_from) >= 0
                       and time.ticks_diff(self._relay_until, now) > 0)
        green = time.ticks_diff(self._green_until, now) > 0
        if self.checking:
            green = (time.ticks_diff(now, 0) // _CHECKING_BLINK_MS) % 2 == 0
        self.green.set(green)
        self.buzzer.set(time.ticks_diff(self._beep_until, now) > 0
                        or (time.ticks_diff(now, self._beep2_from) >= 0
                            and time.ticks_diff(self._beep2_until, now) > 0))
        red = time.ticks_diff(self._red_until, now) > 0
        if not red and self.blink:
            period = _SLOW_BLINK_MS if self.blink == BLINK_SLOW else _FAST_BLINK_MS
            red = (time.ticks_diff(now, 0) // period) % 2 == 0
        self.red.set(red)

    async def run(self, healthy):
        while True:
            healthy()
            self.update()
            await asyncio.sleep_ms(_TICK_MS)
