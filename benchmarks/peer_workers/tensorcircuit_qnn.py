"""TensorCircuit-NG (JAX backend) worker: the hybrid-QNN step of perf_small, jit-compiled.

Circuit: RX(x_i) on every qubit, ``layers`` strongly entangling layers (RZ RY RZ on every qubit,
CNOT ring of range ``l % (n-1) + 1``), <Z_i> of every qubit; the batch is ``jax.vmap``-ed. One
step = value_and_grad of the MSE + SGD update, all in one ``jax.jit`` (compile time reported
apart); the cross-check runs that compiled step once with learning rate 1 (the update is then the
MSE gradient), so the circuit is compiled once. Run inside the peer's venv:
``python tensorcircuit_qnn.py`` (JSON lines on stdin).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import serve  # noqa: E402


def setup(req: dict):
    import jax
    import jax.numpy as jnp
    import numpy as np
    import tensorcircuit as tc

    tc.set_backend("jax")
    tc.set_dtype("complex64")
    n, layers, lr = req["n"], req["layers"], req["lr"]

    def qnn(x, w):
        w = w.reshape(layers, n, 3)
        c = tc.Circuit(n)
        for i in range(n):
            c.rx(i, theta=x[i])
        for layer in range(layers):
            for i in range(n):
                c.rz(i, theta=w[layer, i, 0])
                c.ry(i, theta=w[layer, i, 1])
                c.rz(i, theta=w[layer, i, 2])
            r = layer % (n - 1) + 1 if n > 1 else 0
            if r:
                for i in range(n):
                    c.cnot(i, (i + r) % n)
        return jnp.real(jnp.stack([c.expectation_ps(z=[i]) for i in range(n)]))

    batched = jax.vmap(qnn, in_axes=(0, None))

    def loss(w, x, y):
        out = batched(x, w)
        return jnp.mean((out - y) ** 2), out

    @jax.jit
    def train_step(w, x, y, lr):
        (value, out), g = jax.value_and_grad(loss, has_aux=True)(w, x, y)
        return w - lr * g, value, out

    w0 = jnp.asarray(np.array(req["w0"], dtype=np.float32))
    x = jnp.asarray(np.array(req["x"], dtype=np.float32))
    y = jnp.asarray(np.array(req["y"], dtype=np.float32))
    t0 = time.perf_counter()
    compiled = train_step.lower(w0, x, y, jnp.float32(lr)).compile()
    compile_s = time.perf_counter() - t0
    # the cross-check runs the compiled step itself: with lr = 1 the update is the MSE gradient
    w1, _, out = compiled(w0, x, y, jnp.float32(1.0))
    grad = np.asarray(w0, dtype=np.float64) - np.asarray(w1, dtype=np.float64)
    state = {"w": w0}
    lr_t = jnp.float32(lr)

    def step() -> float:
        t = time.perf_counter()
        w, value, out = compiled(state["w"], x, y, lr_t)
        jax.block_until_ready((w, value, out))
        state["w"] = w
        return time.perf_counter() - t

    import importlib.metadata as md

    answer = {
        "version": f"tensorcircuit-ng {md.version('tensorcircuit-ng')}, jax {jax.__version__}",
        "precision": "complex64",
        "check": "mse",  # outputs of the whole batch and the gradient of the MSE
        "check_out": np.asarray(out, dtype=np.float64).tolist(),
        "check_grad": grad.tolist(),
        "compile_s": compile_s,
    }
    return answer, step


if __name__ == "__main__":
    serve(setup)
