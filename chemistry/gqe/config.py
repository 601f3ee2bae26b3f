"""GQE settings: :class:`GQEConfig` and the measured training recipe of each loss."""

from __future__ import annotations

from dataclasses import dataclass

from circuits.errors import ChemistryError

LOSSES = ("exp", "grpo")
SCHEDULES = ("linear", "variance")
#: Training recipe per loss, measured in benchmarks/repro_chemistry.py: GRPO from beta 1 with a
#: slow ramp and a light best-sequence term (LiH to chemical accuracy in ~45 iterations, where a
#: fast ramp collapsed the sampler); logit matching with one step per iteration and a fast ramp
#: (H2 in a few iterations). Used by ``ketml chem`` and the reproduction.
GQE_RECIPES = {
    "grpo": dict(lr=1e-3, beta0=1.0, beta_step=0.1, best_weight=0.1, steps_per_iter=5),
    "exp": dict(lr=1e-3, beta0=5.0, beta_step=0.5, steps_per_iter=1),
}


@dataclass
class GQEConfig:
    """GQE settings; defaults are small enough for a laptop CPU (cudaqx's GPT-2 is 12 x 768)."""

    ngates: int = 20  # tokens per circuit (after the start token)
    num_samples: int = 50  # candidates per iteration
    max_iters: int = 100
    loss: str = "grpo"  # "exp" (logit matching) or "grpo"
    lr: float = 1e-4
    grad_clip: float = 1.0
    beta0: float = 5.0  # inverse temperature of the sampler
    beta_step: float = 0.05  # linear: beta += step each iteration; variance: +- step
    schedule: str = "linear"
    variance_target: float = 1e-5  # variance schedule: heat up while Var(E) is above this
    buffer_size: int = 100
    elite: int = 0  # distinct lowest-energy sequences kept in the replay buffer besides the recent ones
    warmup: int = 0  # candidates in the buffer before training starts
    steps_per_iter: int = 5  # optimiser steps per iteration
    batch_size: int = 50  # buffer rows per optimiser step
    clip_ratio: float = 0.2  # GRPO
    best_weight: float = 1.0  # GRPO: weight of -log p(best sequence so far)
    energy_offset: float | None = None  # exp loss: subtract this from E (default: initial-state energy)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    seed: int = 3047
    checkpoint_every: int = 10  # iterations; 0: never
    refine_maxiter: int = 0  # > 0: L-BFGS on the best circuit's angles afterwards (chemistry.gqe.refine)
    refine_max_angle: float | None = None  # bound on each token's |theta| in that refit (radians)

    def check(self) -> GQEConfig:
        if self.loss not in LOSSES:
            raise ChemistryError(f"unknown GQE loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.schedule not in SCHEDULES:
            raise ChemistryError(
                f"unknown beta schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}"
            )
        for name in (
            "ngates",
            "num_samples",
            "max_iters",
            "buffer_size",
            "batch_size",
            "n_layer",
            "n_head",
            "n_embd",
        ):
            if int(getattr(self, name)) < 1:
                raise ChemistryError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_embd % self.n_head:
            raise ChemistryError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.elite < 0 or self.refine_maxiter < 0:
            raise ChemistryError("elite and refine_maxiter must be >= 0")
        if self.refine_max_angle is not None and not self.refine_max_angle > 0:
            raise ChemistryError(f"refine_max_angle must be > 0 or None, got {self.refine_max_angle}")
        if self.lr <= 0 or self.beta0 < 0:
            raise ChemistryError("lr must be > 0 and beta0 >= 0")
        return self
