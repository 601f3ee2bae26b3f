"""Auger spectra in the one-centre approximation: atomic one-centre integrals (radial grid, bound
basis, angular algebra, continuum waves), their projection on molecular orbitals, and spectra whose
lines are named by spatial holes and spin.

Modules: :mod:`~chemistry.auger.radial`, :mod:`~chemistry.auger.basis`,
:mod:`~chemistry.auger.angular`, :mod:`~chemistry.auger.continuum` and
:mod:`~chemistry.auger.integrals` (``<eps_lm k|mu nu>``), :mod:`~chemistry.auger.tables`,
:mod:`~chemistry.auger.projection` (MOs on the emitter, rates), :mod:`~chemistry.auger.labels`
(state names) and :mod:`~chemistry.auger.spectrum` (:func:`auger_spectrum`).
"""

from chemistry.auger.integrals import AtomicAugerIntegrals
from chemistry.auger.labels import StateCharacter, state_characters
from chemistry.auger.spectrum import AugerSpectrum, auger_spectrum
from chemistry.auger.tables import load_table, table

__all__ = [
    "AtomicAugerIntegrals",
    "AugerSpectrum",
    "StateCharacter",
    "auger_spectrum",
    "load_table",
    "state_characters",
    "table",
]
