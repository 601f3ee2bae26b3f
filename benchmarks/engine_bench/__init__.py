"""Engine benchmark: ketml's torch engine against its other engines, PennyLane, Qiskit Aer,
CUDA-Q and Qiskit Machine Learning, side by side.

Two benchmarks, all peers in one process on the same machine and thread count:

1. **Hybrid-QNN training step** (``qnn_step``): angle encoding (RX of the inputs), strongly
   entangling layers, ``<Z>`` on every qubit, a batch of inputs; one step is
   ``zero_grad`` + forward + MSE loss + backward + ``SGD.step``. Peers:

   * ketml's torch engine (``diff_method="backprop"`` and ``"adjoint"``, complex64): the
     reference;
   * PennyLane natively: ``default.qubit`` (torch interface, backprop, parameter broadcasting)
     and ``lightning.qubit`` (torch interface, adjoint);
   * the *same* ``circuits.QuantumLayer`` on ketml's other engines: ``engine="pennylane"``
     (``default.qubit`` backprop; ``lightning.qubit`` adjoint), ``engine="aer"`` and
     ``engine="cudaq"`` (``qpp-cpu``), the last two differentiated by the parameter-shift rule
     (one batched simulator call per backward);
   * Qiskit Machine Learning: ``EstimatorQNN`` (Aer's ``EstimatorV2``, exact, its default
     parameter-shift gradient) in a ``TorchConnector``, on the same circuit object.

   The parameter-shift peers run ``2 * P`` circuits per sample in the backward pass, so they are
   timed on a smaller batch (``--shift-batch``) against ketml timed on that same batch, and not
   at all above ``--shift-max-qubits``. Every peer is first cross-checked against ketml
   (outputs and weight gradients on the same inputs and weights); a disagreement aborts the run.
2. **State-vector throughput** (``throughput``): a fixed random layered circuit
   (RX/RY/RZ on every qubit + a CX ladder per layer), batch 1, ketml
   ``circuits.statevector`` (torch engine) against ``AerSimulator(method="statevector")``
   (native) and, through ketml's engines, PennyLane ``lightning.qubit`` / ``default.qubit``
   and CUDA-Q ``qpp-cpu``, in single and double precision; seconds, gate count and effective
   memory bandwidth (``gates * 2 * state_bytes / seconds``). ``--gpu`` adds the GPU
   simulators (torch CUDA, lightning.gpu, Aer GPU, CUDA-Q ``nvidia``) at ``--gpu-qubits``.

A peer that is not installed, whose engine is unavailable, that runs out of time or memory or
that raises is recorded as skipped with the reason; the run goes on.

Results go to ``<out>/engine_bench.json`` and ``<out>/engine_bench.md``; the markdown tables
are also printed. Run ``python -m benchmarks.engine_bench --help`` for the options.

Modules: ``peers`` (the QNN peers), ``qnn_step`` (cross-check and training-step timing),
``simulators`` and ``throughput`` (state-vector throughput), ``report`` (markdown), ``runner``
(thread settings, the report), ``cli`` (options, ``main``).
"""

from .cli import main, parse_args
from .runner import run

__all__ = ["main", "parse_args", "run"]
