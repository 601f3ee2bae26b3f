"""Gradient-inversion attacks on the VQC: what a server that knows the model, theta and one
client's gradient for one sample (x*, y) can recover of x*.

* :func:`gradient_matching`: minimise ||g(x') - g*||^2 / ||g*||^2 from many random starts (Adam,
  then L-BFGS); success and distinct minima counted modulo the encoding's period 2 pi.
* :func:`feature_attack`: least squares for the Pauli features phi(x*) of S(x*)|0><0|S(x*)^dag from
  the gradient (exact when the ansatz has at least 4**n - 1 weights), then the
  underparameterised inversion min ||phi(x') - phi_hat||^2 from random starts (Kumar et al., 2023).
* :func:`numerical_attack`: Papadopoulos et al. (arXiv 2504.12806): finite-difference gradients of the
  matching loss averaged over a window of N shifts (a low-pass filter that steps over the
  high-frequency spurious minima), the window shrinking as the loss falls.

All circuits run on the torch engine in complex128; the loss is (f(x; theta) - y)^2 with
f = <Z_0>.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp

from circuits import QuantumLayer, statevector
from circuits.errors import ConfigurationError
from circuits.library import hardware_efficient

from .circuit import encoding_circuit, max_frequency, vqc_circuit

__all__ = [
    "AttackResult",
    "Target",
    "count_minima",
    "feature_attack",
    "gradient_matching",
    "numerical_attack",
    "periodic_error",
]

PERIOD = 2 * math.pi
ENGINE = {"engine": "torch", "dtype": "complex128"}


def periodic_error(x: torch.Tensor, target: torch.Tensor, period: float = PERIOD) -> torch.Tensor:
    """``x - target`` wrapped into [-period/2, period/2) (inputs enter only as RX angles);
    unwrapped for an infinite period (a classical model)."""
    if math.isinf(period):
        return x - target
    return torch.remainder(x - target + period / 2, period) - period / 2


def count_minima(points: torch.Tensor, tol: float = 1e-2, period: float = PERIOD) -> int:
    """Distinct endpoints (greedy clusters of periodic max-distance < ``tol``)."""
    centres: list[torch.Tensor] = []
    for p in points:
        if not any(periodic_error(p, c, period).abs().max() < tol for c in centres):
            centres.append(p)
    return len(centres)


@dataclass
class AttackResult:
    """Endpoints of every start and what they say: the attacker's answer is the endpoint with the
    lowest attack loss; success counts starts within ``tol`` of x* (mod 2 pi) in every coordinate."""

    endpoints: torch.Tensor  # (M, d)
    losses: torch.Tensor  # (M,)
    target: torch.Tensor  # (d,)
    tol: float = 1e-3
    period: float = PERIOD

    @property
    def errors(self) -> torch.Tensor:
        return periodic_error(self.endpoints, self.target, self.period)

    @property
    def success_rate(self) -> float:
        return float((self.errors.abs().amax(1) < self.tol).float().mean())

    @property
    def best(self) -> torch.Tensor:
        return self.endpoints[int(torch.argmin(self.losses))]

    @property
    def mse(self) -> float:
        """MSE (mod 2 pi) of the attacker's answer."""
        return float(periodic_error(self.best, self.target, self.period).square().mean())

    @property
    def distinct_minima(self) -> int:
        return count_minima(self.endpoints, period=self.period)

    def summary(self) -> dict[str, float]:
        return {
            "success_rate": self.success_rate,
            "mse": self.mse,
            "distinct_minima": self.distinct_minima,
            "best_loss": float(self.losses.min()),
            "starts": len(self.losses),
        }


class Target:
    """The attacked model (``n`` qubits, one input per qubit; encoding, degree; ``layers`` of the
    ansatz, theta drawn from ``seed``) and the shared gradient of one sample (x*, y)."""

    def __init__(
        self,
        n_qubits: int,
        encoding: str,
        degree: int,
        layers: int,
        *,
        seed: int = 0,
        theta: torch.Tensor | None = None,
        x_star: torch.Tensor | None = None,
        y: float | None = None,
    ):
        gen = torch.Generator().manual_seed(seed)
        self.n, self.encoding, self.degree, self.layers = n_qubits, encoding, degree, layers
        self.circuit = vqc_circuit(n_qubits, encoding, degree, layers)
        self.observable = "I" * (n_qubits - 1) + "Z"
        self.n_weights = 2 * n_qubits * layers
        self.theta = (
            (torch.rand(self.n_weights, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi
        ).detach()
        if theta is not None:  # a trained model's weights
            self.theta = torch.as_tensor(theta, dtype=torch.float64).detach().reshape(-1)
        self.layer = QuantumLayer(self.circuit, [self.observable], initial_weights=self.theta, **ENGINE)
        self.x_star = ((torch.rand(n_qubits, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi).detach()
        self.y = float(torch.rand((), generator=gen, dtype=torch.float64) * 2 - 1)
        if x_star is not None:
            self.x_star = torch.as_tensor(x_star, dtype=torch.float64).detach().reshape(n_qubits)
        if y is not None:
            self.y = float(y)
        self.g_star = self.gradients(self.x_star[None]).detach()[0]
        #: the encoding's period in each input: 2 pi, except on one qubit, where the blocks
        #: merge into RX(c x) with c = max_frequency (no entangler between them)
        self.period = PERIOD / (max_frequency(encoding, degree) if n_qubits == 1 else 1)

    def gradients(self, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        """Per-sample gradients ``(M, P)`` of (f(x_m) - y)^2 with respect to theta."""
        with torch.enable_grad():
            w = self.theta.expand(len(x), -1).clone().requires_grad_(True)
            f = self.layer(x, w)[:, 0]
            (g,) = torch.autograd.grad(((f - self.y) ** 2).sum(), w, create_graph=create_graph)
        return g if create_graph else g.detach()

    def matching_loss(self, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        """``||g(x_m) - g*||^2 / ||g*||^2`` per start, ``(M,)``."""
        g = self.gradients(x, create_graph=create_graph)
        return (g - self.g_star).square().sum(1) / self.g_star.square().sum().clamp_min(1e-30)

    # ---- the Pauli-feature picture -------------------------------------------------------------
    @cached_property
    def paulis(self) -> torch.Tensor:
        """The ``4**n - 1`` non-identity Pauli matrices, ``(K, 2**n, 2**n)``."""
        labels = ["".join(p) for p in _product("IXYZ", self.n)][1:]
        return torch.stack([torch.as_tensor(SparsePauliOp(lb).to_matrix()) for lb in labels])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi_k(x) = Tr[rho(x) P_k], ``(M, K)``, rho(x) = S(x)|0><0|S(x)^dag."""
        psi = statevector(encoding_circuit(self.n, self.encoding, self.degree), {"x": x}, **ENGINE)
        return torch.einsum("mi,kij,mj->mk", psi.conj(), self.paulis.to(psi.dtype), psi).real

    @cached_property
    def heisenberg(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``a_k = Tr[O W P_k W^dag] / 2**n`` (f = a . phi) and its Jacobian ``B = da/dtheta`` ``(P, K)``."""
        dim = 2**self.n
        prep = QuantumCircuit(self.n)
        bits = ParameterVector("x", self.n)
        for q in range(self.n):
            prep.ry(bits[q], q)  # RY(pi)|0> = |1>, no phase
        prep.compose(
            hardware_efficient(self.n, self.layers, ("Y", "Z"), "cz", "ring", final_rotations=False),
            inplace=True,
        )
        basis = torch.tensor([[(j >> q) & 1 for q in range(self.n)] for j in range(dim)], dtype=torch.float64)
        z = torch.as_tensor(SparsePauliOp(self.observable).to_matrix())
        paulis = self.paulis

        def coefficients(theta: torch.Tensor) -> torch.Tensor:
            cols = statevector(prep, {"x": math.pi * basis, "theta": theta.expand(dim, -1)}, **ENGINE)
            u = cols.T  # columns W|j>
            m = u.conj().T @ z.to(u.dtype) @ u  # W^dag O W
            return torch.einsum("ij,kji->k", m, paulis.to(u.dtype)).real / dim

        a = coefficients(self.theta).detach()
        jac = torch.autograd.functional.jacobian(coefficients, self.theta)  # (K, P)
        return a, jac.T.detach()


def _product(chars: str, n: int):
    if n == 0:
        yield ()
        return
    for head in chars:
        for tail in _product(chars, n - 1):
            yield (head, *tail)


def _starts(target: Target, starts: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(10_000 + seed)
    return (torch.rand(starts, target.n, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi


def _descend(loss_fn, x0: torch.Tensor, steps: int, lr: float, lbfgs_iters: int) -> torch.Tensor:
    """Adam with a cosine-decayed step, then L-BFGS, on the sum of the per-start losses."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1), eta_min=lr * 1e-3)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(x).sum().backward()
        opt.step()
        sched.step()
    if lbfgs_iters:
        lbfgs = torch.optim.LBFGS(
            [x],
            lr=1.0,
            max_iter=lbfgs_iters,
            tolerance_grad=1e-14,
            tolerance_change=1e-16,
            line_search_fn="strong_wolfe",
        )

        def closure():
            lbfgs.zero_grad()
            total = loss_fn(x).sum()
            total.backward()
            return total

        lbfgs.step(closure)
    return x.detach()


def gradient_matching(
    target: Target,
    *,
    starts: int = 64,
    steps: int = 300,
    lr: float = 0.05,
    lbfgs_iters: int = 100,
    seed: int = 0,
) -> AttackResult:
    """Attack (i): gradient matching from ``starts`` uniform random starts in [-pi, pi)^d."""
    x = _descend(
        lambda v: target.matching_loss(v, create_graph=True),
        _starts(target, starts, seed),
        steps,
        lr,
        lbfgs_iters,
    )
    return AttackResult(x, target.matching_loss(x).detach(), target.x_star, period=target.period)


def recover_features(target: Target) -> tuple[torch.Tensor, dict[str, float]]:
    """The gradient's view of the features: g* = s B phi(x*) (s = 2 (f - y)), so least squares gives
    psi = s P phi(x*), P the projector on the row space of B. ``rank(B)`` of the ``4**n - 1``
    features are visible (for one Pauli observable at most the dimension of its adjoint orbit)."""
    _, jac = target.heisenberg
    pinv = torch.linalg.pinv(jac, rtol=1e-9)  # minimum-norm least squares, null space cut
    psi = pinv @ target.g_star
    rank = int(torch.linalg.matrix_rank(jac, rtol=1e-9))
    true = target.features(target.x_star[None])[0]
    proj = pinv @ (jac @ true)  # P phi(x*)
    cos = float((psi @ proj).abs() / (psi.norm() * proj.norm()).clamp_min(1e-300))
    info = {"jacobian_rank": rank, "n_features": int(jac.shape[1]), "snapshot_cosine": cos}
    return psi.detach(), info


def feature_attack(
    target: Target,
    *,
    starts: int = 64,
    steps: int = 300,
    lr: float = 0.05,
    lbfgs_iters: int = 100,
    seed: int = 0,
) -> tuple[AttackResult, dict[str, float]]:
    """Attack (ii): the snapshot psi by least squares, then the underparameterised inversion
    min_x' 1 - cos^2(B phi(x'), g*) from random starts (the attack model is phi(x') alone: no
    circuit gradients, only the encoding's features)."""
    psi, info = recover_features(target)
    _, jac = target.heisenberg
    g = jac @ psi  # = g* when g* lies in the range of B (always: g* = s B phi)

    def loss(v: torch.Tensor) -> torch.Tensor:
        h = target.features(v) @ jac.T
        return 1 - (h @ g).square() / (h.square().sum(1) * g.square().sum()).clamp_min(1e-300)

    x = _descend(loss, _starts(target, starts, seed), steps, lr, lbfgs_iters)
    # the attacker ranks the candidates by the exact gradient match (it knows the model): this
    # also settles the sign of s, which the scale-free inversion loss cannot see
    info["inversion_loss_min"] = float(loss(x).min())
    return AttackResult(x, target.matching_loss(x), target.x_star, period=target.period), info


def numerical_attack(
    target: Target,
    *,
    starts: int = 16,
    steps: int = 300,
    lr: float = 0.1,
    window: float = 1.0,
    shifts: int = 8,
    shrink: float = 0.5,
    patience: int = 20,
    min_window: float = 1e-4,
    lbfgs_iters: int = 100,
    seed: int = 0,
) -> AttackResult:
    """Attack (iii), after Papadopoulos et al.: d L / d x_j ~ mean over n = 1..N of
    [L(x + n h e_j) - L(x - n h e_j)] / (2 n h), with N h = ``window``; the window shrinks by
    ``shrink`` whenever the best loss has not improved for ``patience`` steps; then an exact
    L-BFGS polish of the matching loss."""
    if shifts < 1 or window <= 0:
        raise ConfigurationError("shifts must be >= 1 and window > 0")
    x = _starts(target, starts, seed)
    m, d = x.shape
    w = torch.full((m,), float(window), dtype=torch.float64)
    n = torch.arange(1, shifts + 1, dtype=torch.float64)
    best = torch.full((m,), math.inf, dtype=torch.float64)
    stall = torch.zeros(m, dtype=torch.long)
    eye = torch.eye(d, dtype=torch.float64)
    for _ in range(steps):
        h = (w / shifts)[:, None, None, None]  # (m, 1, 1, 1)
        offs = n[None, :, None, None] * h * eye[None, None]  # (m, N, d, d)
        probes = torch.cat([x[:, None, None] + offs, x[:, None, None] - offs], 1).reshape(-1, d)
        with torch.no_grad():
            values = target.matching_loss(probes).reshape(m, 2, shifts, d)
        grad = ((values[:, 0] - values[:, 1]) / (2 * n[None, :, None] * h[:, :, 0, 0, None])).mean(1)
        x = x - lr * w[:, None] / window * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
        with torch.no_grad():
            current = target.matching_loss(x)
        improved = current < best * (1 - 1e-3)
        best = torch.where(improved, current, best)
        stall = torch.where(improved, torch.zeros_like(stall), stall + 1)
        shrink_now = stall >= patience
        w = torch.where(shrink_now, (w * shrink).clamp_min(min_window), w)
        stall = torch.where(shrink_now, torch.zeros_like(stall), stall)
    x = _descend(lambda v: target.matching_loss(v, create_graph=True), x, 0, lr, lbfgs_iters)
    return AttackResult(x, target.matching_loss(x).detach(), target.x_star, period=target.period)
