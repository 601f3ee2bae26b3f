"""The JSON-lines loop every worker runs (standard library only: imported inside the peer's venv).

Requests, one JSON object a line: ``{"cmd": "setup", ...}`` builds the model, cross-checks and
compiles it; ``{"cmd": "step"}`` times one training step; ``{"cmd": "quit"}`` ends. Each answer
is one JSON line with ``"ok"``; an exception becomes ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable


def serve(setup: Callable[[dict], tuple[dict, Callable[[], float]]]) -> None:
    """Answer requests until ``quit``; ``setup(request)`` returns (answer, step) where ``step()``
    runs one timed training step and returns its seconds."""
    out = sys.stdout
    sys.stdout = sys.stderr  # libraries that print must not break the protocol
    step = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            if req["cmd"] == "quit":
                answer = {"ok": True}
            elif req["cmd"] == "setup":
                answer, step = setup(req)
                answer["ok"] = True
            elif req["cmd"] == "step":
                if step is None:
                    raise RuntimeError("step before setup")
                answer = {"ok": True, "seconds": step()}
            else:
                raise ValueError(f"unknown command {req['cmd']!r}")
        except Exception as exc:  # reported to the parent, which records the peer as failed
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        out.write(json.dumps(answer) + "\n")
        out.flush()
        if req.get("cmd") == "quit":
            return
