"""``ketml engines``: which engines run here, what each can do, the torch devices, the GPU options."""

from __future__ import annotations

import json

from .test_run import invoke


def test_engines_lists_torch_as_ok():
    result = invoke("engines")
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.stdout.splitlines() if ln.split()[:1] == ["torch"])
    assert line.split()[1] == "ok"
    assert "cpu" in result.stdout

    result = invoke("engines", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["engines"]["torch"] == "ok"
    assert data["devices"]["cpu"] == "ok"
    # every engine that runs here lists its GPU options, each "ok" or a reason naming what is missing
    import torch

    for name in ("torch", "aer", "cudaq", "pennylane"):
        if data["engines"].get(name) == "ok":
            assert data["gpu"][name], name
    cuda = data["gpu"]["torch"]["device='cuda'"]
    assert (cuda == "ok") == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert "GPU" in cuda
        if data["engines"].get("cudaq") == "ok":
            assert "needs a CUDA GPU" in data["gpu"]["cudaq"]["target='nvidia'"]


def test_engines_show_capabilities():
    from circuits import engines

    declared = engines.capabilities()
    data = json.loads(invoke("engines", "--json").stdout)
    assert set(data["capabilities"]) == set(declared)
    for name, caps in declared.items():
        assert data["capabilities"][name]["statevector"] is caps.statevector
        assert data["capabilities"][name]["mid_circuit"] is caps.mid_circuit
        assert data["capabilities"][name]["exact"] is caps.exact
        assert data["capabilities"][name]["gradient"] == caps.gradient
    assert data["capabilities"]["torch"]["statevector"] is True
    assert data["capabilities"]["ibm"]["statevector"] is False

    lines = invoke("engines").stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["engine", "statevector"])
    columns = lines[head].split()
    assert {"mid-circuit", "exact", "gradient"} <= set(columns)
    rows = {}
    for ln in lines[head + 1 :]:
        if not ln.strip():
            break
        rows[ln.split()[0]] = dict(zip(columns, ln.split(), strict=True))
    assert set(rows) == set(declared)
    assert rows["ibm"]["statevector"] == "no" and rows["torch"]["statevector"] == "yes"
    assert rows["torch"]["gradient"] == declared["torch"].gradient
