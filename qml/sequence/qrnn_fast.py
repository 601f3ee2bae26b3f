"""The QRNN's forward pass as one small matrix product per time step (exact, same numbers).

Why it is exact: at the start of a step the in/out lanes are ``|0>``, flipped to the input word
``v``; the input and kernel layers only rotate workspace lanes, so the in/out lanes stay ``|v>``
and those layers act on the workspace as one matrix ``K_v`` (``2^W x 2^W``). The output neurons
rotate the in/out lanes conditioned on workspace basis states, so output word ``y`` multiplies
the workspace amplitudes by a diagonal ``d_y``. One step is therefore
``a_y = d_y * (K_v h)``, ``p(y) = |a_y|^2 / sum_y' |a_y'|^2``, ``h' = a_y / |a_y|`` for the
postselected (or sampled) ``y``: the same maps as :meth:`QRNN.forward_reference`, regrouped.

Why it is fast: ``K_v`` and ``d_y`` do not depend on time. They are built once per forward pass
by running the neurons on all basis states at once (a few dozen element-wise ops on a
``(2^in, 2^W, 2^W)`` tensor); each of the ~100 steps is then one matrix product per distinct
input word plus a handful of element-wise ops, instead of ~45 rotations of the whole state.
Autograd differentiates through both parts, so gradients are exact too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .qrnn_ops import QRNNOutput, _bits_to_int, _int_to_bits, _Rotate

if TYPE_CHECKING:
    from .qrnn import QRNN

__all__ = ["transfer_matrices", "fast_forward"]


def transfer_matrices(model: QRNN) -> tuple[torch.Tensor, torch.Tensor]:
    """``(M, D)``: ``M[v]`` (``2^W x 2^W``) maps a workspace row vector ``h`` to ``h @ M[v]`` =
    ``K_v h`` (input word ``v``; input and kernel layers), ``D[y]`` (``2^W``) the output layer's
    amplitude factor for output word ``y`` on every workspace basis state."""
    n_io, n_w = model.input_size, model.workspace_size
    n_v, dim = 1 << n_io, 1 << n_w
    coeffs = model._coefficients()
    # x[v, j] = K_v e_j, workspace lanes as dims 2 .. 2 + W
    x = torch.eye(dim, dtype=torch.float64, device=model.unitaries[0].device)
    x = x.expand(n_v, dim, dim).reshape(n_v, dim, *([2] * n_w))

    def rotate(state: torch.Tensor, c: torch.Tensor, s: torch.Tensor, lane: int) -> torch.Tensor:
        # coefficients are shaped to broadcast over the full state (lanes as trailing dims);
        # every in/out lane is a source of a workspace neuron (size 2), so the in/out dims fold
        # into the word dim v (or are 1 for an RY)
        c = c.reshape(-1, 1, *c.shape[-n_w:])
        s = s.reshape(-1, 1, *s.shape[-n_w:])
        return _Rotate.apply(state, c, s, 2 + lane - n_io)

    for neuron in model.input_layer:
        x = rotate(x, *coeffs[id(neuron)], neuron.outlane)
    for stage, neurons in enumerate(model.kernel_layers):
        for k, lane in enumerate(model.workspace):
            x = rotate(x, *coeffs[("ry", stage, k)], lane)
        for neuron in neurons:
            x = rotate(x, *coeffs[id(neuron)], neuron.outlane)
    m = x.reshape(n_v, dim, dim)
    # the output layer is diagonal in the workspace: run it on |0>_io (x) (all ones)
    y = torch.zeros([1] + [2] * (n_io + n_w), dtype=torch.float64, device=m.device)
    y[(0,) * (1 + n_io)] = 1.0
    for neuron in model.output_layer:
        y = neuron.apply(y, coeffs[id(neuron)])
    return m, y.reshape(n_v, dim)


def _groups(words: torch.Tensor) -> list[tuple[int, torch.Tensor]] | int:
    """The batch indices per input word at one step, or the word itself if all are equal."""
    first = int(words[0])
    if bool((words == first).all()):
        return first
    return [(int(v), (words == v).nonzero().squeeze(1)) for v in torch.unique(words).tolist()]


def _propagate(h: torch.Tensor, m: tuple[torch.Tensor, ...], groups) -> torch.Tensor:
    """``h @ M[v]`` per row, one product per distinct word (``m``: ``M`` unbound, so the
    backward pass does not build a zero gradient of all of ``M`` per product)."""
    if isinstance(groups, int):
        return h @ m[groups]
    order = torch.cat([idx for _, idx in groups])
    parts = torch.cat([h.index_select(0, idx) @ m[v] for v, idx in groups])
    return parts.index_select(0, torch.argsort(order))


def fast_forward(model: QRNN, inputs, targets, postselect: torch.Tensor, generator=None):
    """:meth:`QRNN.forward` through :func:`transfer_matrices` (arguments checked by the caller)."""
    b, t_len, _ = inputs.shape
    m, d = transfer_matrices(model)
    words = _bits_to_int(inputs)  # (B, T)
    labels = _bits_to_int(targets) if targets is not None else None
    h = torch.zeros(b, m.shape[1], dtype=torch.float64, device=m.device)
    h[:, 0] = 1.0
    m = m.unbind(0)
    rows = torch.arange(b, device=d.device)
    probs, chosen_all, ps_probs = [], [], []
    for t in range(t_len):
        g = _propagate(h, m, _groups(words[:, t]))
        a = g.unsqueeze(1) * d  # (B, 2^in, 2^W)
        py = a.square().sum(-1)  # (B, 2^in), unnormalised
        p = py / py.sum(-1, keepdim=True).clamp_min(1e-300)
        sampled = torch.multinomial(p.detach().float().clamp_min(0), 1, generator=generator).squeeze(1)
        chosen = torch.where(postselect[:, t], labels[:, t], sampled) if labels is not None else sampled
        ps_probs.append(torch.where(postselect[:, t], p[rows, chosen], torch.ones_like(p[:, 0])))
        kept = a[rows, chosen]
        h = kept / py[rows, chosen].sqrt().clamp_min(1e-300).unsqueeze(1)
        probs.append(p)
        chosen_all.append(chosen)
    measured = _int_to_bits(torch.stack(chosen_all, 1), model.input_size)
    return QRNNOutput(torch.stack(probs, 1), measured, torch.stack(ps_probs, 1))
