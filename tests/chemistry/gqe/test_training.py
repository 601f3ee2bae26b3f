"""chemistry.gqe (config, energy, model, pool, training): sampling follows softmax(-beta * logits),
batched candidate energies equal the engines' on the same circuits, a tiny GQE run finds a 2-qubit
ground state with either loss, and resume continues a run exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp, Statevector
from scipy import stats

pytest.importorskip("transformers")

from chemistry.gqe.config import GQEConfig  # noqa: E402
from chemistry.gqe.energy import CandidateEnergies  # noqa: E402
from chemistry.gqe.model import make_model, sample, sequence_logp  # noqa: E402
from chemistry.gqe.pool import OperatorPool, pauli_pool  # noqa: E402
from chemistry.gqe.training import run_gqe  # noqa: E402

Z0Z1 = SparsePauliOp.from_list([("IZ", 1.0), ("ZI", 1.0)])
LABELS = ["IX", "XI", "IY", "YI", "IZ", "ZI", "ZZ"]


def small_config(**kw) -> GQEConfig:
    base = dict(
        ngates=8, num_samples=20, max_iters=60, lr=1e-3, n_embd=32, n_head=2, n_layer=2, checkpoint_every=0
    )
    base.update(kw)
    return GQEConfig(**base)


def test_sampling_follows_softmax_of_minus_beta_logits():
    pool = pauli_pool(LABELS, angles=[0.1, -0.1], n_qubits=2)
    model = make_model(len(pool), small_config(ngates=1))
    with torch.no_grad():  # scale the head so the distribution is far from uniform
        model.lm_head.weight.mul_(40.0)
    beta = 1.5
    logits = model(input_ids=torch.zeros(1, 1, dtype=torch.long)).logits[0, -1].double()
    probs = torch.softmax(-beta * logits, dim=0).detach().numpy()
    assert probs.max() > 3 / len(pool)  # the test would not see a wrong sign on a flat law
    n = 20000
    seq, logp = sample(model, n, 1, beta, torch.Generator().manual_seed(0))
    counts = np.bincount(seq[:, 1].numpy(), minlength=len(pool))
    expected = probs * n
    keep = expected > 5
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3
    np.testing.assert_allclose(logp.numpy(), np.log(probs[seq[:, 1].numpy()]), atol=1e-4)  # float32 model


def test_cached_sampling_logp_equals_teacher_forced():
    pool = pauli_pool(LABELS, angles=[0.1, -0.1], n_qubits=2)
    model = make_model(len(pool), small_config(ngates=6))
    seq, logp = sample(model, 7, 6, 2.0, torch.Generator().manual_seed(1))
    assert seq.shape == (7, 7) and bool((seq[:, 0] == 0).all())
    with torch.no_grad():
        again = sequence_logp(model, seq, 2.0)
    np.testing.assert_allclose(again.numpy(), logp.numpy(), atol=1e-5)


def test_batched_energies_equal_engines_and_statevector():
    rng = np.random.default_rng(3)
    h = SparsePauliOp.from_list([(p, rng.normal()) for p in ["ZZI", "XIX", "IYY", "ZII", "XYZ"]])
    pool = pauli_pool(["XYI", "IZX", "YYY", "ZIZ", "XII"], angles=[0.3, -0.7, 1.1], n_qubits=3)
    ids = torch.as_tensor(rng.integers(0, len(pool), size=(6, 5)))
    fast = CandidateEnergies(h, pool, "101")(ids)
    for row, e in zip(ids, fast, strict=True):
        circuit = pool.sequence(row.tolist()).to_circuit("101")
        assert abs(Statevector(circuit).expectation_value(h).real - e) < 1e-7
    slow = CandidateEnergies(h, pool, "101", engine="torch")(ids)
    np.testing.assert_allclose(slow, fast, atol=1e-6)
    # the executor path: candidates spread over worker processes give the same energies, in order
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool_exec:
        spread = CandidateEnergies(h, pool, "101", engine="torch", executor=pool_exec, chunk=2)(ids)
    np.testing.assert_allclose(spread, fast, atol=1e-6)
    with pytest.raises(ValueError, match="executor= needs a circuit engine"):
        CandidateEnergies(h, pool, "101", executor=object())


@pytest.mark.parametrize("loss", ["grpo", "exp"])
def test_tiny_gqe_reaches_two_qubit_ground_state(loss):
    # exp(-i pi/8 X) four times flips a qubit: |11> (E = -2) needs eight chosen tokens out of 15.
    pool = pauli_pool(LABELS, angles=[np.pi / 8, -np.pi / 8], n_qubits=2)
    cfg = small_config(
        loss=loss, beta0=1.0 if loss == "grpo" else 5.0, beta_step=0.05 if loss == "grpo" else 0.5, seed=1
    )
    result = run_gqe(Z0Z1, pool, "00", cfg, progress=False, target=-2.0, tolerance=1e-9)
    assert result.energy == pytest.approx(-2.0, abs=1e-9)
    assert Statevector(result.circuit()).expectation_value(Z0Z1).real == pytest.approx(-2.0, abs=1e-7)
    assert result.history["mean"][0] > 0.5  # random circuits start far from the ground state


def test_resume_continues_exactly(tmp_path):
    pool = pauli_pool(LABELS, angles=[np.pi / 8, -np.pi / 8], n_qubits=2)
    cfg = small_config(max_iters=6, checkpoint_every=3, seed=5)
    straight = run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "a")
    cfg.max_iters = 3
    run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "b")
    cfg.max_iters = 6
    resumed = run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "b", resume=True)
    np.testing.assert_allclose(resumed.history["mean"], straight.history["mean"], atol=1e-9)
    assert (tmp_path / "b" / "gqe.json").exists()


def test_bad_input():
    pool = pauli_pool(LABELS, angles=[0.1], n_qubits=2)
    with pytest.raises(ValueError, match="unknown GQE loss"):
        run_gqe(Z0Z1, pool, "00", GQEConfig(loss="ppo"), progress=False)
    with pytest.raises(ValueError, match="initial bitstring"):
        run_gqe(Z0Z1, pool, "000", small_config(), progress=False)
    with pytest.raises(ValueError, match="qubits"):
        CandidateEnergies(SparsePauliOp("ZZZ"), pool, "00")
    with pytest.raises(ValueError, match="token ids"):
        CandidateEnergies(Z0Z1, pool, "00")(torch.tensor([[len(pool)]]))
    with pytest.raises(ValueError, match="identity"):
        OperatorPool(2, [[("XX", 0.1)]], ["x"])
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        run_gqe(Z0Z1, pool, "00", small_config(), progress=False, resume=True)
    with pytest.raises(ValueError, match="refine_max_angle"):
        GQEConfig(refine_max_angle=0.0).check()


def test_elite_replay_keeps_the_lowest_distinct_sequences():
    from chemistry.gqe.training import ReplayBuffer

    buf = ReplayBuffer(size=2, elite=2)
    seq = torch.tensor([[0, 1], [0, 2], [0, 1], [0, 3]])
    buf.push(seq, torch.tensor([0.5, -1.0, 0.5, 0.2], dtype=torch.float64), torch.zeros(4))
    buf.push(torch.tensor([[0, 4], [0, 5]]), torch.tensor([3.0, 2.0], dtype=torch.float64), torch.zeros(2))
    assert buf.best[0].tolist() == [[0, 2], [0, 3]]  # -1.0 and 0.2; the repeated [0, 1] counted once
    assert buf.seq.tolist() == [[0, 4], [0, 5]]  # the recent part is only the last two
    s, e, _ = buf.batch(10, torch.Generator().manual_seed(0))
    assert sorted(e.tolist()) == [-1.0, 0.2, 2.0, 3.0]


def test_resume_with_elite_and_refinement_ends_where_an_uninterrupted_run_does(tmp_path):
    pool = pauli_pool(LABELS, angles=[np.pi / 8, -np.pi / 8], n_qubits=2)
    cfg = small_config(max_iters=6, checkpoint_every=2, seed=7, elite=4, refine_maxiter=20)
    straight = run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "a")
    cfg.max_iters = 4
    run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "b")
    cfg.max_iters = 6
    resumed = run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path / "b", resume=True)
    np.testing.assert_allclose(resumed.history["mean"], straight.history["mean"], atol=1e-9)
    assert resumed.tokens == straight.tokens
    assert resumed.energy == pytest.approx(straight.energy, abs=1e-12)
    assert resumed.energy <= resumed.sampled_energy + 1e-12  # refinement never makes it worse


def test_refinement_respects_refine_max_angle(tmp_path):
    """The run's angle refit keeps each token's rotation within ``refine_max_angle`` (pi/8 tokens,
    bound 0.1 rad), in the result and in gqe.json."""
    import json

    pool = pauli_pool(LABELS, angles=[np.pi / 8, -np.pi / 8], n_qubits=2)
    cfg = small_config(max_iters=3, seed=7, refine_maxiter=20, refine_max_angle=0.1)
    result = run_gqe(Z0Z1, pool, "00", cfg, progress=False, out_dir=tmp_path)
    angles = json.loads((tmp_path / "gqe.json").read_text())["refined_rotation_angles"]
    assert angles and max(angles) <= 0.1 * (1 + 1e-9)
    assert len(angles) == sum(1 for j in result.tokens if j != 0)  # one per kept token (no merges here)


def test_resuming_a_run_that_reached_its_target_changes_nothing(tmp_path):
    pool = pauli_pool(LABELS, angles=[np.pi / 8, -np.pi / 8], n_qubits=2)
    cfg = small_config(loss="grpo", beta0=1.0, beta_step=0.05, seed=1, checkpoint_every=5)
    first = run_gqe(Z0Z1, pool, "00", cfg, progress=False, target=-2.0, tolerance=1e-9, out_dir=tmp_path)
    assert len(first.history["best"]) < cfg.max_iters  # it stopped early on the target
    again = run_gqe(
        Z0Z1, pool, "00", cfg, progress=False, target=-2.0, tolerance=1e-9, out_dir=tmp_path, resume=True
    )
    assert again.tokens == first.tokens and again.history["best"] == first.history["best"]
