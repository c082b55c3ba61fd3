"""Provisioning: put the gate firmware, its configuration and its secret key on boards."""
