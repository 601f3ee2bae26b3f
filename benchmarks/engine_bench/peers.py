"""The QNN-step peers: the same hybrid-QNN layer as a torch module, one section per peer.

* ketml's torch engine (``QuantumLayer``, backprop / adjoint): the reference;
* PennyLane QNodes written natively (``default.qubit``, ``lightning.qubit``);
* the same ``QuantumLayer`` on ketml's other engines (pennylane, aer, cudaq);
* Qiskit Machine Learning's ``EstimatorQNN`` in a ``TorchConnector``.

Every module exposes its flat weight vector as ``.weights`` (``theta[(l*n+i)*3+k]`` is
PennyLane's ``weights[l, i, k]``), so one cross-check and one training step serve them all.
"""

from __future__ import annotations

import warnings
from typing import Any

from benchmarks.harness import import_peer, require_engine, skip_reason

PEERS = (
    "ketml_backprop",
    "ketml_adjoint",
    "default_qubit",
    "lightning_qubit",
    "ketml_pennylane_dq",
    "ketml_pennylane_lq",
    "ketml_aer",
    "ketml_cudaq",
    "qiskit_ml",
)
PEER_LABELS = {
    "ketml_backprop": "ketml backprop",
    "ketml_adjoint": "ketml adjoint",
    "ketml_backprop_c128": "ketml backprop c128",
    "ketml_backprop_shift_batch": "ketml backprop",
    "default_qubit": "default.qubit",
    "lightning_qubit": "lightning.qubit",
    "ketml_pennylane_dq": "ketml pennylane default.qubit",
    "ketml_pennylane_lq": "ketml pennylane lightning.qubit",
    "ketml_aer": "ketml aer",
    "ketml_cudaq": "ketml cudaq qpp-cpu",
    "qiskit_ml": "qiskit-ml EstimatorQNN",
}
# PennyLane QNodes written natively (not through ketml)
PENNYLANE_PEERS = ("default_qubit", "lightning_qubit")
# ketml's torch engine
KETML_PEERS = ("ketml_backprop", "ketml_adjoint", "ketml_backprop_c128", "ketml_backprop_shift_batch")
# the same QuantumLayer on ketml's other engines: peer -> (engine, engine options)
ENGINE_PEERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ketml_pennylane_dq": ("pennylane", {"pennylane_device": "default.qubit", "diff_method": "backprop"}),
    "ketml_pennylane_lq": ("pennylane", {"pennylane_device": "lightning.qubit", "diff_method": "adjoint"}),
    "ketml_aer": ("aer", {"method": "statevector"}),
    "ketml_cudaq": ("cudaq", {"target": "qpp-cpu"}),
}
# differentiated by the parameter-shift rule: 2 * P circuit evaluations per sample per backward
SHIFT_PEERS = ("ketml_aer", "ketml_cudaq", "qiskit_ml")
# the peers compared with ketml (every column but the torch engine's own)
COMPARED_PEERS = PENNYLANE_PEERS + tuple(ENGINE_PEERS) + ("qiskit_ml",)
PEER_INFO: dict[str, dict[str, str]] = {
    "ketml_backprop": {"runs": "ketml torch engine", "gradient": "backprop", "precision": "complex64"},
    "ketml_adjoint": {"runs": "ketml torch engine", "gradient": "adjoint", "precision": "complex64"},
    "ketml_backprop_c128": {"runs": "ketml torch engine", "gradient": "backprop", "precision": "complex128"},
    "ketml_backprop_shift_batch": {
        "runs": "ketml torch engine at --shift-batch",
        "gradient": "backprop",
        "precision": "complex64",
    },
    "default_qubit": {
        "runs": "PennyLane default.qubit QNode",
        "gradient": "backprop",
        "precision": "complex128",
    },
    "lightning_qubit": {
        "runs": "PennyLane lightning.qubit QNode",
        "gradient": "adjoint",
        "precision": "complex128",
    },
    "ketml_pennylane_dq": {
        "runs": "QuantumLayer(engine='pennylane', pennylane_device='default.qubit')",
        "gradient": "backprop (PennyLane's)",
        "precision": "complex128",
    },
    "ketml_pennylane_lq": {
        "runs": "QuantumLayer(engine='pennylane', pennylane_device='lightning.qubit')",
        "gradient": "adjoint (PennyLane's)",
        "precision": "complex128",
    },
    "ketml_aer": {
        "runs": "QuantumLayer(engine='aer', method='statevector')",
        "gradient": "parameter shift, one Aer job per backward",
        "precision": "complex128",
    },
    "ketml_cudaq": {
        "runs": "QuantumLayer(engine='cudaq', target='qpp-cpu')",
        "gradient": "parameter shift, one broadcast cudaq.observe per backward",
        "precision": "complex128",
    },
    "qiskit_ml": {
        "runs": "TorchConnector(EstimatorQNN(estimator=EstimatorV2, default_precision=0))",
        "gradient": "ParamShiftEstimatorGradient (EstimatorQNN's default)",
        "precision": "complex128",
    },
}

# ------------------------------------------------------------------------------ ketml torch engine


def ketml_circuit(n_qubits: int, n_layers: int):
    """RX angle encoding of ``x`` + ``n_layers`` strongly entangling layers of ``theta``, and
    ``<Z_i>`` observables for every qubit."""
    from qiskit.quantum_info import SparsePauliOp

    from circuits.library import angle_encoding, strongly_entangling_layers

    qc = angle_encoding(n_qubits, "X", inputs="x").compose(
        strongly_entangling_layers(n_qubits, n_layers, weights="theta")
    )
    observables = [SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], n_qubits) for i in range(n_qubits)]
    return qc, observables


# ------------------------------------------------------------------------------ PennyLane, natively


class PennyLaneLayer:
    """Factory of a torch module around a PennyLane QNode with the same circuit as ketml's.

    The module holds the weights flat, like ``QuantumLayer``: ``theta[(l*n+i)*3+k]`` is
    PennyLane's ``weights[l, i, k]`` (C-order reshape).
    """

    @staticmethod
    def build(device_name: str, diff_method: str, n_qubits: int, n_layers: int, w0):
        import pennylane as pnl
        import torch

        dev = pnl.device(device_name, wires=n_qubits)
        wires = list(range(n_qubits))

        @pnl.qnode(dev, interface="torch", diff_method=diff_method)
        def circuit(x, weights):
            pnl.AngleEmbedding(x, wires=wires, rotation="X")
            pnl.StronglyEntanglingLayers(weights, wires=wires)
            return [pnl.expval(pnl.PauliZ(i)) for i in wires]

        class _Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = torch.nn.Parameter(w0.detach().clone())
                self.qnode = circuit

            def forward(self, x):
                out = self.qnode(x, self.weights.reshape(n_layers, n_qubits, 3))
                return torch.stack(list(out), dim=-1)

        return _Module()


# ------------------------------------------------------------------------------ Qiskit Machine Learning


def qiskit_ml_model(n_qubits: int, n_layers: int, w0, *, estimator: str = "aer", threads: int | None = None):
    """Qiskit Machine Learning's ``EstimatorQNN`` on ketml's circuit object (inputs = the ``x``
    vector, weights = ``theta``, both in index order), in a ``TorchConnector``; exposed like
    ``QuantumLayer``: ``module.weights`` is the flat weight vector."""
    import torch

    hint = "install it for the benchmark only: .venv/bin/pip install qiskit-machine-learning"
    package = "qiskit-machine-learning"
    connectors = import_peer("qiskit_machine_learning.connectors", package=package, hint=hint)
    networks = import_peer("qiskit_machine_learning.neural_networks", package=package, hint=hint)
    TorchConnector, EstimatorQNN = connectors.TorchConnector, networks.EstimatorQNN
    qc, observables = ketml_circuit(n_qubits, n_layers)
    params = list(qc.parameters)
    inputs = sorted((p for p in params if p.vector.name == "x"), key=lambda p: p.index)
    weights = sorted((p for p in params if p.vector.name == "theta"), key=lambda p: p.index)
    if estimator == "aer":
        from qiskit_aer.primitives import EstimatorV2

        options: dict[str, Any] = {"default_precision": 0.0}
        if threads:
            options["backend_options"] = {"max_parallel_threads": threads}
        est = EstimatorV2(options=options)
    else:
        from qiskit.primitives import StatevectorEstimator

        est = StatevectorEstimator()
    # default_precision=0: exact expectation values (its default 1/64 adds sampling noise)
    qnn = EstimatorQNN(
        circuit=qc,
        observables=observables,
        input_params=inputs,
        weight_params=weights,
        estimator=est,
        default_precision=0.0,
    )
    connector = TorchConnector(qnn, initial_weights=w0.detach().double().numpy())

    class _Module(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.connector = connector

        @property
        def weights(self):
            return self.connector.weight

        def forward(self, x):
            return self.connector(x)

    return _Module()


# ------------------------------------------------------------------------------ every peer by name


def build_model(peer: str, n_qubits: int, n_layers: int, w0, settings: dict[str, Any] | None = None):
    """The torch module of ``peer`` with weights ``w0``. ``settings``: ``threads`` (Aer) and
    ``qiskit_ml_estimator`` ("aer" or "statevector")."""
    import circuits

    settings = settings or {}
    if peer in KETML_PEERS:
        qc, obs = ketml_circuit(n_qubits, n_layers)
        options = {
            "ketml_backprop": {"diff_method": "backprop", "dtype": "complex64"},
            "ketml_backprop_shift_batch": {"diff_method": "backprop", "dtype": "complex64"},
            "ketml_adjoint": {"diff_method": "adjoint", "dtype": "complex64"},
            "ketml_backprop_c128": {"diff_method": "backprop", "dtype": "complex128"},
        }[peer]
        return circuits.QuantumLayer(
            qc, obs, inputs="x", weights="theta", initial_weights=w0.detach().clone(), **options
        )
    if peer in ENGINE_PEERS:
        engine, options = ENGINE_PEERS[peer]
        require_engine(engine)
        options = dict(options)
        if engine == "aer" and settings.get("threads"):
            options["max_parallel_threads"] = settings["threads"]
        qc, obs = ketml_circuit(n_qubits, n_layers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return circuits.QuantumLayer(
                qc,
                obs,
                inputs="x",
                weights="theta",
                engine=engine,
                initial_weights=w0.detach().clone(),
                **options,
            )
    if peer == "qiskit_ml":
        return qiskit_ml_model(
            n_qubits,
            n_layers,
            w0,
            estimator=settings.get("qiskit_ml_estimator", "aer"),
            threads=settings.get("threads"),
        )
    if peer == "default_qubit":
        return PennyLaneLayer.build("default.qubit", "backprop", n_qubits, n_layers, w0)
    if peer == "lightning_qubit":
        return PennyLaneLayer.build("lightning.qubit", "adjoint", n_qubits, n_layers, w0)
    raise ValueError(f"unknown peer {peer!r}")


def lightning_batching(model, x) -> dict[str, Any]:
    """How lightning.qubit runs a broadcast batch: the number of tapes that reach the device."""
    import pennylane as pnl

    weights = model.weights.reshape(-1, x.shape[1], 3)
    try:
        tapes, _ = pnl.workflow.construct_batch(model.qnode, level="device")(x, weights)
    except Exception as exc:  # noqa: BLE001
        return {"device_tapes": None, "note": f"could not inspect: {skip_reason(exc)}"}
    n_tapes = len(tapes)
    native = n_tapes == 1 and getattr(tapes[0], "batch_size", None) == x.shape[0]
    note = (
        "runs the broadcast batch natively"
        if native
        else f"no native broadcasting: the batch is split into {n_tapes} tapes (one per sample)"
    )
    return {"device_tapes": n_tapes, "native_broadcasting": native, "note": note}
