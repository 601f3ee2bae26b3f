"""Synthetic atmospheric corrosion of aluminium: mass loss under time-varying weather.

**Synthetic**: no public measured dataset exists (Tandon et al.'s Airbus data are internal). The
generator combines two published models, with coefficients read from the ``corrosion-iso9223``
catalogue entry (ISO 9223:2012 §8.2 Eq. (1)-(4), ISO 9224:2012 Table 3):

* ISO 9223:2012 dose-response function for aluminium, first-year rate in µm/a,
  ``r = a_so2 Pd^p_so2 exp(k_rh_so2 RH + f(T)) + a_cl Sd^p_cl exp(k_rh_cl RH + k_T_cl T)``
  (``f = slope_le10 (T - 10)`` for ``T <= 10`` °C, else ``slope_gt10 (T - 10)``), applied to the
  *instantaneous* conditions (the standard fits annual means: this use is ours);
* ISO 9224:2012 power law ``D(t) = r t^b`` (b = 0.728, aluminium), generalised to a varying rate
  as ``dD/dt = r(t) b t^(b-1)`` (equal to the standard for a constant climate; stops at 20 years
  where the standard turns linear).

Loss is converted to mass loss with 2.70 g/m² per µm. RH and T follow seasonal and daily
sinusoids with AR(1) weather noise; SO2 (Pd) and chloride (Sd) deposition vary seasonally with
log-normal noise; each site has a log-normal DRF factor (ln-sd 0.3, a fraction of the standard's
-50 %/+100 % uncertainty) and the observed loss a multiplicative measurement noise.
Deterministic from ``seed``.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from circuits.errors import ConfigurationError

from . import sequences as _sequences  # noqa: F401  (the sequence models' series are listed first)
from .registry import Dataset, register
from .tables import load_table

__all__ = ["SITES", "corrosion_series", "drf_rate", "iso9224_loss", "iso_coefficients"]

#: annual means per site: temperature (°C), relative humidity (%), SO2 deposition Pd and
#: chloride deposition Sd (mg/(m² d)); amplitudes of the seasonal (T, RH) and daily cycles
SITES: dict[str, dict[str, float]] = {
    "rural": {"T": 9.0, "RH": 76.0, "Pd": 4.0, "Sd": 3.0, "T_season": 8.0, "T_day": 5.0},
    "urban": {"T": 12.0, "RH": 70.0, "Pd": 20.0, "Sd": 8.0, "T_season": 9.0, "T_day": 4.0},
    "industrial": {"T": 11.0, "RH": 74.0, "Pd": 60.0, "Sd": 10.0, "T_season": 9.0, "T_day": 4.5},
    "coastal": {"T": 14.0, "RH": 80.0, "Pd": 10.0, "Sd": 120.0, "T_season": 6.0, "T_day": 3.0},
    "tropical-marine": {"T": 26.0, "RH": 84.0, "Pd": 8.0, "Sd": 250.0, "T_season": 2.0, "T_day": 4.0},
}

#: g/m² of aluminium per µm of uniform loss
AL_DENSITY = 2.70


@functools.lru_cache(maxsize=4)
def iso_coefficients(root: str | None = None) -> dict[str, float]:
    """The aluminium row of the ISO 9223 DRF table and the ISO 9224 exponent ``b`` (B1),
    read through the catalogue (``$KETML_DATA/corrosion``)."""
    drf = load_table("corrosion-iso9223", "iso9223_2012_dose_response_coefficients", root)
    exps = load_table("corrosion-iso9223", "iso9224_2012_time_exponents", root)
    al = next(r for r in drf if r["metal"] == "aluminium")
    out = {k: float(v) for k, v in al.items() if k not in ("metal", "rcorr_unit")}
    out["b"] = float(next(r for r in exps if r["metal"] == "aluminium")["B1_mean"])
    return out


def drf_rate(T, RH, Pd, Sd, c: dict[str, float]) -> np.ndarray:
    """ISO 9223:2012 first-year corrosion rate of aluminium (µm/a) for the given conditions."""
    T, RH = np.asarray(T, float), np.asarray(RH, float)
    f = np.where(T <= 10, c["f_T_le10_slope"] * (T - 10), c["f_T_gt10_slope"] * (T - 10))
    so2 = c["a_so2"] * np.asarray(Pd, float) ** c["p_so2"] * np.exp(c["k_rh_so2"] * RH + f)
    cl = c["a_cl"] * np.asarray(Sd, float) ** c["p_cl"] * np.exp(c["k_rh_cl"] * RH + c["k_T_cl"] * T)
    return so2 + cl


def iso9224_loss(rate, t_years, b: float) -> np.ndarray:
    """Cumulative loss (µm) for the rates ``rate[i]`` (µm/a) holding over ``(t[i-1], t[i]]``
    (``t[-1] = 0``): ``sum_i rate[i] (t_i^b - t_{i-1}^b)``, which is ISO 9224's ``r t^b`` for a
    constant rate (``t <= 20`` years)."""
    t = np.asarray(t_years, float)
    return np.cumsum(np.asarray(rate, float) * np.diff(t**b, prepend=0.0))


def corrosion_series(
    site: str = "coastal",
    *,
    years: float = 3.0,
    step_hours: int = 6,
    noise: float = 0.01,
    seed: int = 0,
    root: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, mass_loss)`` of one site: ``inputs`` ``(T, 5)`` = [RH %, T °C, Pd, Sd, observed
    mass loss g/m²] per ``step_hours`` over ``years``, ``mass_loss`` ``(T,)`` the observed
    cumulative loss (g/m², multiplicative noise ``noise``). Synthetic (see the module docstring)."""
    if site not in SITES:
        raise ConfigurationError(f"unknown corrosion site {site!r}; known: {', '.join(SITES)}")
    if not 0 < years <= 20 or step_hours < 1 or noise < 0:
        raise ConfigurationError(
            "need 0 < years <= 20 (ISO 9224 power law), step_hours >= 1, noise >= 0; "
            f"got {years}, {step_hours}, {noise}"
        )
    c = iso_coefficients(root)
    s = SITES[site]
    rng = np.random.default_rng([seed, list(SITES).index(site)])
    n = int(round(years * 365.25 * 24 / step_hours))
    t_days = (np.arange(n) + 1) * step_hours / 24.0
    season = np.cos(2 * np.pi * (t_days - 200) / 365.25)  # warmest around mid-July
    day = np.cos(2 * np.pi * (t_days % 1.0 - 0.625))  # warmest around 15:00

    def ar1(scale: float, rho: float = 0.95) -> np.ndarray:
        e = rng.normal(0, scale * np.sqrt(1 - rho**2), n)
        out = np.empty(n)
        out[0] = rng.normal(0, scale)
        for i in range(1, n):
            out[i] = rho * out[i - 1] + e[i]
        return out

    temp = s["T"] + s["T_season"] * season + s["T_day"] * day + ar1(2.0)
    rh = np.clip(s["RH"] - 0.8 * s["T_season"] * season - 2.0 * s["T_day"] * day + ar1(6.0), 20.0, 100.0)
    pd = s["Pd"] * np.exp(0.3 * (-season) + ar1(0.3) - 0.045)
    sd = s["Sd"] * np.exp(0.3 * season + ar1(0.4) - 0.08)
    rate = drf_rate(temp, rh, pd, sd, c) * np.exp(rng.normal(0, 0.3))  # µm/a, site factor
    loss_um = iso9224_loss(rate, t_days / 365.25, c["b"])
    observed = loss_um * AL_DENSITY * np.exp(rng.normal(0, noise, n))
    inputs = np.stack([rh, temp, pd, sd, observed], axis=1)
    return torch.as_tensor(inputs), torch.as_tensor(observed)


register(
    Dataset(
        "corrosion",
        "time series",
        "synthetic aluminium atmospheric-corrosion mass loss (ISO 9223 DRF + ISO 9224 power law) "
        f"under varying weather, 6-hourly over 3 years, sites: {', '.join(SITES)}",
        corrosion_series,
        built_from=("corrosion-iso9223",),
        source="ISO 9223:2012 / ISO 9224:2012 models (synthetic; Tandon et al. arXiv:2505.22837 "
        "used Airbus-internal data)",
        licence="generated here from the standards' coefficients",
        size="4383 steps per site",
        how_to_get="generated on the fly from the corrosion-iso9223 tables",
    )
)
