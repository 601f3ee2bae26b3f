"""The recurrent quantum neural network (QRNN) of Bausch, "Recurrent Quantum Neural Networks"
(NeurIPS 2020, arXiv 2006.14619), cell for cell.

Lanes (qubits): ``input_size`` in/out lanes, then ``workspace`` lanes (the hidden state carried
from step to step), then, in the circuit version, ``order`` ancillas. One time step:

1. flip the in/out lanes to the input bits (basis encoding);
2. input layer: one quantum neuron per workspace lane, reading all other lanes;
3. ``stages`` x [a trainable RY on every workspace lane, then one neuron per workspace lane];
4. flip the input back; 5. output layer: one neuron per in/out lane;
6. ``p(y)`` = the marginal distribution of the in/out lanes;
7. postselect the in/out lanes on the target (teacher forcing, training) or sample them
   (evaluation), then flip them back to ``|0>``.

A quantum neuron on lane ``o`` computes ``theta(x) = (sum_I phi_I prod_{i in I} x_i + b + pi/2) / 2``
over the subsets ``I`` (1 <= |I| <= ``degree``) of its source lanes, and rotates ``o`` by the
repeat-until-success nonlinearity of order ``order``: on every basis state the postselected
map is ``[[c, -s], [s, c]]`` with ``c = cos(theta)^(2^order)``, ``s = sin(theta)^(2^order)``,
followed by renormalisation. :class:`QRNN` applies exactly that per basis state (the fast
implementation, no ancillas); :func:`qrnn_circuit` builds the same step sequence as a Qiskit
circuit with ancillas, multi-controlled RY gates and mid-circuit postselection, which runs on
the engines; the two agree to rounding (``tests/test_qrnn.py``).
"""

from __future__ import annotations

import itertools
import math

import torch
from qiskit import QuantumCircuit
from qiskit.circuit.library import RYGate
from torch import nn

from circuits.errors import ConfigurationError, DataError
from circuits.ops import Postselect
from qml.registry import Preset, register_model

from .qrnn_fast import fast_forward
from .qrnn_ops import QRNNOutput, _bits_to_int, _int_to_bits, _normalize, _Rotate

#: Bausch's settings per task (workspace qubits, stages, neuron order and degree; training)
QRNN_PRESETS = {
    "elman-xor": Preset(
        {"workspace": 6, "stages": 3, "order": 2, "degree": 4}, {"epochs": 30, "batch_size": 8, "lr": 0.01}
    ),
    "elman-letter": Preset(
        {"workspace": 5, "stages": 2, "order": 2, "degree": 3}, {"epochs": 30, "batch_size": 4, "lr": 0.005}
    ),
    "mnist-pixels-01": Preset(
        {"workspace": 8, "stages": 2, "order": 2, "degree": 2}, {"epochs": 3, "batch_size": 100, "lr": 0.01}
    ),
    "mnist-pixels-36": Preset(
        {"workspace": 8, "stages": 2, "order": 2, "degree": 2}, {"epochs": 3, "batch_size": 100, "lr": 0.01}
    ),
}

__all__ = ["QRNN", "QRNNOutput", "QuantumNeuron", "qrnn_circuit", "qrnn_loss"]


def _subsets(n: int, degree: int) -> list[tuple[int, ...]]:
    """All index sets of size 1..degree of ``range(n)``, in itertools order."""
    return [c for r in range(1, degree + 1) for c in itertools.combinations(range(n), r)]


def _subset_table(n: int, degree: int) -> torch.Tensor:
    """``T[x, k] = 1`` if basis state ``x`` of ``n`` bits (first source = most significant bit)
    has every bit of subset ``k`` set: the monomials of the neuron's polynomial."""
    bits = torch.tensor([[(x >> (n - 1 - i)) & 1 for i in range(n)] for x in range(1 << n)], dtype=torch.bool)
    cols = [bits[:, list(s)].all(dim=1) for s in _subsets(n, degree)]
    return torch.stack(cols, dim=1).to(torch.float64) if cols else torch.zeros(1 << n, 0, dtype=torch.float64)


class QuantumNeuron(nn.Module):
    """One quantum neuron writing onto lane ``outlane`` from ``sources`` (fast, exact version)."""

    def __init__(
        self,
        outlane: int,
        sources: list[int],
        n_lanes: int,
        order: int = 2,
        degree: int = 2,
        bias: float = math.pi / 2,
        weight_spread: float = 0.01,
        bias_spread: float = 0.1,
    ):
        super().__init__()
        if outlane in sources:
            raise ConfigurationError(f"the neuron's output lane {outlane} cannot also be a source")
        self.outlane = outlane
        self.sources = sorted(sources)
        self.n_lanes = n_lanes
        self.order = order
        self.degree = min(degree, len(self.sources))
        self.bias = bias
        self.register_buffer("table", _subset_table(len(self.sources), self.degree), persistent=False)
        self.phi = nn.Parameter(torch.randn(self.table.shape[1], dtype=torch.float64) * weight_spread)
        self.theta = nn.Parameter(torch.randn((), dtype=torch.float64) * bias_spread)

    def angles(self) -> torch.Tensor:
        """``theta(x)`` for every basis state of the sources, shaped to broadcast over a state."""
        ten = 0.5 * (self.table @ self.phi + self.theta + self.bias)
        shape = [2 if lane in self.sources else 1 for lane in range(self.n_lanes)]
        return ten.reshape(shape)

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(c, s) = (cos^(2^order), sin^(2^order))`` of :meth:`angles`: the same at every step."""
        ten = self.angles()
        power = 2**self.order
        return torch.cos(ten) ** power, torch.sin(ten) ** power

    def apply(self, psi: torch.Tensor, coefficients: tuple[torch.Tensor, torch.Tensor] | None = None):
        """The postselected, *unnormalised* map on ``psi`` (real ``(B, 2, ..., 2)``, lane ``k`` =
        dim ``k + 1``): ``[[c, -s], [s, c]]`` on the out lane, per basis state of the sources."""
        c, s = self.coefficients() if coefficients is None else coefficients
        return _Rotate.apply(psi, c, s, self.outlane + 1)

    def forward(self, psi: torch.Tensor) -> torch.Tensor:
        """The neuron on a state: :meth:`apply`, then renormalisation (the postselection)."""
        return _normalize(self.apply(psi))

    def extra_repr(self) -> str:
        return f"outlane={self.outlane}, sources={self.sources}, order={self.order}, degree={self.degree}"


def _flip(psi: torch.Tensor, lanes: list[int], bits: torch.Tensor) -> torch.Tensor:
    """Per sample, X on lane ``lanes[k]`` where ``bits[:, k]`` is 1."""
    for k, lane in enumerate(lanes):
        mask = bits[:, k].bool().reshape([-1] + [1] * (psi.ndim - 1))
        psi = torch.where(mask, psi.flip(lane + 1), psi)
    return psi


@register_model(
    "qrnn",
    tasks=("qrnn",),
    description="Bausch's recurrent QNN: quantum neurons, postselection (arXiv 2006.14619)",
    defaults={"optimizer": "adam", "grad_clip": 0.5, "val_fraction": 0.0, "eval_batch_size": 256},
    presets=QRNN_PRESETS,
)
class QRNN(nn.Module):
    """Bausch's QRNN (the fast, exact implementation), batched over sequences, float64.

    ``forward(inputs, targets, postselect)``: ``inputs`` and ``targets`` are bit tensors
    ``(B, T, input_size)``; step ``t`` reads ``inputs[:, t]`` and is scored against
    ``targets[:, t]``. ``postselect`` (bool, or a ``(B, T)`` mask) chooses teacher forcing
    (postselect on the target) or sampling per step.
    """

    def __init__(
        self,
        input_size: int,
        workspace: int,
        stages: int = 2,
        order: int = 2,
        degree: int = 2,
        *,
        bias: float = math.pi / 2,
        weight_spread: float = 0.01,
        bias_spread: float = 0.1,
        unitary_spread: float = 0.01,
    ):
        super().__init__()
        if min(input_size, workspace, stages, order, degree) < 1:
            raise ConfigurationError("input_size, workspace, stages, order and degree must all be >= 1")
        if input_size + workspace > 22:
            raise ConfigurationError(
                f"{input_size + workspace} lanes: the state would not fit in memory (max 22)"
            )
        self.input_size, self.workspace_size = input_size, workspace
        self.stages, self.order, self.degree = stages, order, degree
        self.inout = list(range(input_size))
        self.workspace = list(range(input_size, input_size + workspace))
        n = input_size + workspace
        lanes = self.workspace + self.inout
        opts = dict(
            n_lanes=n,
            order=order,
            degree=degree,
            bias=bias,
            weight_spread=weight_spread,
            bias_spread=bias_spread,
        )

        def layer(outs: list[int]) -> nn.ModuleList:
            return nn.ModuleList(QuantumNeuron(o, [s for s in lanes if s != o], **opts) for o in outs)

        self.input_layer = layer(self.workspace)
        self.unitaries = nn.ParameterList(
            nn.Parameter(torch.randn(workspace, dtype=torch.float64) * unitary_spread) for _ in range(stages)
        )
        self.kernel_layers = nn.ModuleList(layer(self.workspace) for _ in range(stages))
        self.output_layer = layer(self.inout)

    @property
    def n_lanes(self) -> int:
        return self.input_size + self.workspace_size

    @property
    def n_qubits(self) -> int:
        """Qubits of the circuit version (in/out + workspace + ``order`` ancillas)."""
        return self.n_lanes + self.order

    def initial_state(self, batch: int, device=None) -> torch.Tensor:
        psi = torch.zeros([batch] + [2] * self.n_lanes, dtype=torch.float64, device=device)
        psi.view(batch, -1)[:, 0] = 1.0
        return psi

    def _coefficients(self) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """Every neuron's and RY's ``(c, s)``, computed once per forward: they do not depend on time."""
        coeffs = {id(n): n.coefficients() for n in self.modules() if isinstance(n, QuantumNeuron)}
        shape = [1] * (self.n_lanes + 1)
        for stage, angles in enumerate(self.unitaries):
            for k in range(len(self.workspace)):
                half = angles[k] / 2
                coeffs[("ry", stage, k)] = (torch.cos(half).reshape(shape), torch.sin(half).reshape(shape))
        return coeffs

    def step(self, psi: torch.Tensor, bits: torch.Tensor, coeffs=None) -> tuple[torch.Tensor, torch.Tensor]:
        """One cell step on a state whose in/out lanes are ``|0>``: returns ``(p(y), state)``."""
        coeffs = self._coefficients() if coeffs is None else coeffs
        psi = _flip(psi, self.inout, bits)
        # every map is linear: renormalise once per step (same state, far fewer graph nodes)
        for neuron in self.input_layer:
            psi = neuron.apply(psi, coeffs[id(neuron)])
        for stage, neurons in enumerate(self.kernel_layers):
            for k, lane in enumerate(self.workspace):
                psi = _Rotate.apply(psi, *coeffs[("ry", stage, k)], lane + 1)
            for neuron in neurons:
                psi = neuron.apply(psi, coeffs[id(neuron)])
        psi = _flip(psi, self.inout, bits)
        for neuron in self.output_layer:
            psi = neuron.apply(psi, coeffs[id(neuron)])
        psi = _normalize(psi)
        probs = psi.square().sum(dim=[lane + 1 for lane in self.workspace]).flatten(1)
        return probs, psi

    def _collapse(self, psi: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
        """Project the in/out lanes on ``bits`` (per sample), renormalise, reset them to ``|0>``."""
        b = psi.shape[0]
        flat = psi.reshape(b, 1 << self.input_size, -1)
        index = _bits_to_int(bits).reshape(b, 1, 1).expand(b, 1, flat.shape[2])
        kept = flat.gather(1, index)
        out = torch.zeros_like(flat)
        out[:, :1] = kept
        return _normalize(out.reshape(psi.shape))

    def forward(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor | None = None,
        postselect: bool | torch.Tensor = True,
        generator: torch.Generator | None = None,
        reference: bool = False,
    ) -> QRNNOutput:
        """The cell over the sequence; ``reference=True`` applies the neurons to the state step by
        step (:meth:`step`), the default regroups the same maps into one matrix product per step
        (:mod:`.qrnn_fast`, same numbers to rounding, far fewer autograd nodes)."""
        if inputs.ndim != 3 or inputs.shape[2] != self.input_size:
            raise DataError(
                f"inputs must be bits of shape (B, T, {self.input_size}); got {tuple(inputs.shape)}"
            )
        b, t_len, _ = inputs.shape
        if isinstance(postselect, bool):
            postselect = torch.full((b, t_len), postselect, dtype=torch.bool)
        if bool(postselect.any()) and (targets is None or targets.shape != inputs.shape):
            raise DataError("postselection needs targets of the same shape as the inputs")
        if not reference:
            return fast_forward(self, inputs, targets, postselect, generator)
        psi = self.initial_state(b, inputs.device)
        coeffs = self._coefficients()
        probs, measured, ps_probs = [], [], []
        for t in range(t_len):
            p, psi = self.step(psi, inputs[:, t], coeffs)
            sampled = torch.multinomial(p.detach().float().clamp_min(0), 1, generator=generator).squeeze(1)
            if targets is not None:
                chosen = torch.where(postselect[:, t], _bits_to_int(targets[:, t]), sampled)
            else:
                chosen = sampled
            bits = _int_to_bits(chosen, self.input_size)
            ps_probs.append(
                torch.where(
                    postselect[:, t], p.gather(1, chosen[:, None]).squeeze(1), torch.ones_like(p[:, 0])
                )
            )
            psi = self._collapse(psi, bits)
            probs.append(p)
            measured.append(bits)
        return QRNNOutput(torch.stack(probs, 1), torch.stack(measured, 1), torch.stack(ps_probs, 1))


def qrnn_loss(probs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Bausch's loss: cross entropy with the output *probabilities* as logits, minus the best value
    it can reach (``-1 + log(2**w - 1 + e)``), so a perfect model scores 0. ``mask`` ``(B, T)``
    selects the scored steps."""
    w = targets.shape[-1]
    best = -1 + math.log(2**w - 1 + math.e)
    logits = probs.reshape(-1, probs.shape[-1])
    labels = _bits_to_int(targets).reshape(-1)
    if mask is not None:
        keep = mask.reshape(-1)
        logits, labels = logits[keep], labels[keep]
    return nn.functional.cross_entropy(logits, labels) - best


# ------------------------------------------------------------------------------ circuit version


def _neuron_gates(qc: QuantumCircuit, neuron: QuantumNeuron, ancillas: list[int]) -> None:
    """Append the repeat-until-success neuron of order ``len(ancillas)`` with postselection."""
    phi = neuron.phi.detach().tolist()
    subsets = _subsets(len(neuron.sources), neuron.degree)
    params = [([neuron.sources[i] for i in s], v) for s, v in zip(subsets, phi, strict=True)]
    constant = neuron.bias + float(neuron.theta.detach())

    def param_gates(sign: float) -> None:
        ops = [(ctrl, v) for ctrl, v in params] + [([], constant)]
        for ctrl, v in ops if sign > 0 else reversed(ops):
            if ctrl:
                qc.append(RYGate(sign * v).control(len(ctrl), annotated=False), [*ctrl, ancillas[0]])
            else:
                qc.ry(sign * v, ancillas[0])

    static = [*ancillas, neuron.outlane]

    def recurse(k: int, dagger: bool) -> None:
        if k == 0:
            param_gates(+1)
            qc.cry(-math.pi if dagger else math.pi, static[0], static[1])
            param_gates(-1)
        else:
            recurse(k - 1, False)
            qc.cry(-math.pi if dagger else math.pi, static[k], static[k + 1])
            recurse(k - 1, True)
        qc.append(Postselect(0), [ancillas[k]])

    recurse(len(ancillas) - 1, False)


def qrnn_circuit(
    model: QRNN, inputs: torch.Tensor, outcomes: torch.Tensor, steps: int | None = None
) -> QuantumCircuit:
    """The QRNN on one input sequence as a Qiskit circuit with ancillas and postselection.

    ``inputs``, ``outcomes``: bit tensors ``(T, input_size)``; the in/out lanes are postselected
    on ``outcomes[t]`` after step ``t``. With ``steps=k`` the circuit stops after step ``k``'s
    output layer (before its postselection), so its in/out marginal is ``p(y_k)``. Lane ``l`` is
    qubit ``l``; the ancillas are the last ``order`` qubits. Weights are bound to their values.
    """
    n = model.n_qubits
    ancillas = list(range(model.n_lanes, n))
    qc = QuantumCircuit(n, name="qrnn")
    t_len = inputs.shape[0] if steps is None else steps + 1
    for t in range(t_len):
        flips = [lane for lane, bit in zip(model.inout, inputs[t].tolist(), strict=True) if bit]
        for lane in flips:
            qc.x(lane)
        for neuron in model.input_layer:
            _neuron_gates(qc, neuron, ancillas)
        for angles, neurons in zip(model.unitaries, model.kernel_layers, strict=True):
            for k, lane in enumerate(model.workspace):
                qc.ry(float(angles[k].detach()), lane)
            for neuron in neurons:
                _neuron_gates(qc, neuron, ancillas)
        for lane in flips:
            qc.x(lane)
        for neuron in model.output_layer:
            _neuron_gates(qc, neuron, ancillas)
        if steps is not None and t == steps:
            break
        for lane, bit in zip(model.inout, outcomes[t].tolist(), strict=True):
            qc.append(Postselect(int(bit)), [lane])
            if bit:
                qc.x(lane)
    return qc
