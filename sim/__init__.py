"""bzsim: a virtual ESP32 gate board (the real MicroPython interpreter with board shims)."""
