"""The report a grading process sends to the grader: signed JSON lines, checked strictly.

The student's code runs in the process that reports on it, so it could write
lines of its own into the report pipe.  Each line is therefore signed with a
key that the grader draws for that process (HMAC-SHA256), and the grader
accepts only the exact sequence the kernel produces: ``isolation``, then for
each expected cell, in order, ``start`` and its ``cell`` result, with
``flags`` (tampering) and ``neutralised`` (a line not run as written: cell, line, how)
in between, and finally ``end``.  Anything else fails that
submission's grading ("the report ... was not written by the grader").

The functions used here are bound when this module is imported, before any
student code runs, so replacing ``json.dumps`` or ``os.write`` later changes
nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os

_dumps, _loads, _write = json.dumps, json.loads, os.write
_hmac, _sha256, _equal = hmac.new, hashlib.sha256, hmac.compare_digest
MAX_LINE = 64 << 20


class ProtocolError(Exception):
    """A report line that the grading process did not produce, or one out of sequence."""


def new_key() -> bytes:
    return os.urandom(32)


def send(fd: int, key: bytes, message: dict) -> None:
    """Write one signed line: hex tag, a space, the JSON message."""
    body = _dumps(message).encode()
    data = _hmac(key, body, _sha256).hexdigest().encode() + b" " + body + b"\n"
    while data:
        data = data[_write(fd, data):]


def parse(key: bytes, line: bytes) -> dict:
    """The message of a signed line; ProtocolError if the signature or the shape is wrong."""
    tag, _, body = line.partition(b" ")
    if not _equal(tag, _hmac(key, body, _sha256).hexdigest().encode()):
        raise ProtocolError("a line without the grader's signature")
    message = _loads(body)
    if not isinstance(message, dict) or len(message) == 0:
        raise ProtocolError("a line that is not a message")
    return message


class Sequence:
    """Checks that messages come in the kernel's order for the ``expected`` cell indices."""

    def __init__(self, expected: list[int]) -> None:
        self.expected, self.next, self.current = list(expected), 0, None

    def check(self, message: dict) -> None:
        kind = next(iter(message))
        if kind == "start":
            if self.current is not None or self.next >= len(self.expected) or \
                    message["start"] != self.expected[self.next]:
                raise ProtocolError(f"cell {message['start']!r} started out of order")
            self.current = message["start"]
        elif kind == "cell":
            if message["cell"] != self.current or not isinstance(message.get("outputs"), list) or \
                    not all(isinstance(o, dict) for o in message["outputs"]) or \
                    not isinstance(message.get("truncated"), bool) or \
                    not isinstance(message.get("error"), (str, type(None))):
                raise ProtocolError(f"a malformed result for cell {message['cell']!r}")
            self.current, self.next = None, self.next + 1
        elif kind == "end":
            if self.current is not None or self.next != len(self.expected):
                raise ProtocolError("the report ended before every cell ran")
        elif kind == "flags":
            if not isinstance(message["flags"], list) or not all(isinstance(f, str) for f in message["flags"]):
                raise ProtocolError("malformed flags")
        elif kind == "neutralised":
            value = message["neutralised"]
            if not (isinstance(value, list) and len(value) == 3 and type(value[0]) is int and
                    all(isinstance(v, str) for v in value[1:])):
                raise ProtocolError("a malformed note")
        elif kind not in ("isolation", "crash"):
            raise ProtocolError(f"an unknown message {kind!r}")
