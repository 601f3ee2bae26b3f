"""chemistry.auger.projection: the one-centre contraction ``W = D D D V`` and the rates built from
transition RDMs equal a brute-force evaluation with explicit ladder operators."""

from __future__ import annotations

import numpy as np

from chemistry.auger.projection import molecular_integrals, rates
from chemistry.fermion_ops import annihilate, create, transition_rdm


def test_contraction_equals_brute_force():
    rng = np.random.default_rng(1)
    n_ao, n_orb, n_so = 5, 3, 6
    v = rng.normal(size=(2, 3, n_ao, n_ao, n_ao))
    d = rng.normal(size=(n_ao, n_orb))
    w = molecular_integrals(v, d, core=0)
    brute = np.zeros((2, 3, n_orb, n_orb))
    for l_, m, p, q in np.ndindex(*brute.shape):
        for k, mu, nu in np.ndindex(n_ao, n_ao, n_ao):
            brute[l_, m, p, q] += d[k, 0] * d[mu, p] * d[nu, q] * v[l_, m, k, mu, nu]
    np.testing.assert_allclose(w, brute, atol=1e-12)
    # rates: amplitude of <K, eps sigma| sum W a+_eps a+_c a_q a_p |I> built from ladder operators
    initial = rng.normal(size=2**n_so) + 1j * rng.normal(size=2**n_so)
    finals = rng.normal(size=(4, 2**n_so)) + 1j * rng.normal(size=(4, 2**n_so))
    core_spin = 1
    core = 2 * 0 + core_spin
    gam = transition_rdm(finals, initial, core)
    expected = np.zeros(4)
    for sigma in (0, 1):
        for l_, m in np.ndindex(2, 3):
            vec = np.zeros(2**n_so, dtype=complex)
            for p, q in np.ndindex(n_orb, n_orb):
                state = annihilate(initial[None], 2 * p + sigma)
                state = annihilate(state, 2 * q + core_spin)  # a_q a_p |I>, q on the core's spin
                vec += w[l_, m, p, q] * create(state, core)[0]
            expected += np.abs(finals.conj() @ vec) ** 2
    np.testing.assert_allclose(rates(w, gam, core_spin), 2 * np.pi * expected, rtol=1e-10)
