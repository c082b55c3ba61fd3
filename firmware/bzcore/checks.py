"""Checks that configuration modules share (bzcore.config, bzcore.uplinkconfig): how a bad
value is quoted in an error, and what counts as a whole number or a flag in JSON."""

import json


def value_text(value):
    """A value as an error message quotes it: JSON, cut to 24 characters."""
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


def is_int(value):
    return type(value) is int  # bool is an int subclass: true/false are not numbers here


def check_flag(name, value):
    if type(value) is not bool:
        return "%s: true or false (got %s)" % (name, value_text(value))
    return None
