"""Which OpenQASM version a program is: its ``OPENQASM`` header, or a guess from 3-only syntax."""

from __future__ import annotations

import re

from ..errors import QasmError
from .source import NONSPACE, Source

_HEADER = re.compile(r"\s*OPENQASM\b")
_VERSION = re.compile(r"\s*(([0-9]+)(?:\.[0-9]+)?)")
_V3_ONLY = re.compile(
    r"(?:^|[;{}])\s*(?:qubit|bit|input|output|const|let|def|defcal|defcalgrammar|cal|box|for|"
    r"while|switch|float|angle|int|uint|bool|complex|duration|stretch|array|gphase|ctrl|negctrl|"
    r"inv|pow|extern|delay)\b"
    r'|include\s+"stdgates\.inc"|\$[0-9]+|=\s*measure\b',
    re.M,
)


def detect(src: Source) -> tuple[int, bool]:
    """(major version, whether the program had an ``OPENQASM`` header)."""
    masked = src.masked
    head = _HEADER.match(masked)
    if head is None:
        if NONSPACE.search(masked) is None:
            raise QasmError("empty OpenQASM program: no statements", 1, 1)
        return (3 if _V3_ONLY.search(masked) else 2), False
    ver = _VERSION.match(masked, head.end())
    if ver is None:
        nxt = NONSPACE.search(masked, head.end())
        where = nxt.start() if nxt is not None else len(masked)
        raise QasmError(
            "malformed version header: expected a version number after 'OPENQASM'",
            *src.position(where),
        )
    major = int(ver.group(2))
    if major not in (2, 3):
        raise QasmError(
            f"unsupported OpenQASM version {ver.group(1)}: only versions 2 and 3 can be read",
            *src.position(ver.start(1)),
        )
    return major, True


def detect_version(text: str) -> int:
    """Return 2 or 3: the ``OPENQASM`` header's major version, or a guess from 3-only syntax."""
    return detect(Source(text))[0]
