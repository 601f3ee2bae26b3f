"""TorchQuantum worker: the hybrid-QNN step of perf_small on a batched ``tq.QuantumDevice``.

RX(x_i) encoding through ``torchquantum.functional``, trainable ``tq.Rot`` gates (PennyLane's
``Rot(phi, theta, omega)``), CNOT rings, ``expval`` of PauliZ on every wire; SGD. Run inside the
peer's venv (JSON lines on stdin). TorchQuantum 0.1.8 imports torchvision only for its datasets;
where torchvision cannot load against the CPU build of torch, those imports get an empty stand-in.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import serve  # noqa: E402


class _Anything(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return cls


class _Placeholder(metaclass=_Anything):
    pass


class _EmptyTorchvision(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``torchvision.*`` as empty modules (only TorchQuantum's dataset modules use them)."""

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def attr(name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _Placeholder

        module.__getattr__ = attr
        return module

    def exec_module(self, module):
        pass


def _import_torchquantum():
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _EmptyTorchvision())
    import torchquantum

    return torchquantum


def setup(req: dict):
    import torch

    tq = _import_torchquantum()
    import torchquantum.functional as tqf
    from torchquantum.measurement import expval

    torch.set_num_threads(req["threads"])
    n, layers, lr = req["n"], req["layers"], req["lr"]

    class QLayer(tq.QuantumModule):
        def __init__(self):
            super().__init__()
            self.rots = torch.nn.ModuleList(
                tq.Rot(has_params=True, trainable=True) for _ in range(layers * n)
            )
            w0 = torch.tensor(req["w0"], dtype=torch.float32).reshape(layers * n, 3)
            with torch.no_grad():
                for rot, w in zip(self.rots, w0, strict=True):
                    rot.params.copy_(w.reshape(1, 3))

        def forward(self, x):
            qdev = tq.QuantumDevice(n_wires=n, bsz=x.shape[0], device=x.device)
            for i in range(n):
                tqf.rx(qdev, wires=i, params=x[:, i])
            for layer in range(layers):
                for i in range(n):
                    self.rots[layer * n + i](qdev, wires=i)
                r = layer % (n - 1) + 1 if n > 1 else 0
                if r:
                    for i in range(n):
                        tqf.cnot(qdev, wires=[i, (i + r) % n])
            return expval(qdev, list(range(n)), [tq.PauliZ()] * n)

        def flat_grad(self):
            return torch.cat([rot.params.grad.reshape(-1) for rot in self.rots])

    model = QLayer()
    xc = torch.tensor(req["check_x"], dtype=torch.float32)
    coef = torch.tensor(req["check_coef"], dtype=torch.float32)
    out = model(xc)
    (out * coef).sum().div(xc.shape[0]).backward()
    grad = model.flat_grad()
    model.zero_grad()
    x = torch.tensor(req["x"], dtype=torch.float32)
    y = torch.tensor(req["y"], dtype=torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step() -> float:
        t = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return time.perf_counter() - t

    import importlib.metadata as md

    answer = {
        "version": f"torchquantum {md.version('torchquantum')}, torch {torch.__version__}",
        "precision": "complex64",
        "check_out": out.detach().double().tolist(),
        "check_grad": grad.double().tolist(),
        "compile_s": 0.0,
    }
    return answer, step


if __name__ == "__main__":
    serve(setup)
