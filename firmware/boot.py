# Runs first on every reset: the relay goes to its safe state (off, door locked) before
# anything else can fail. main.py then starts the gate.
import gate.outputs

gate.outputs.relay_safe()
