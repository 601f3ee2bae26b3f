"""``FedConfig``: every setting of a federated run, validated, and its Flower run-config form.

The same settings reach the ServerApp and every ClientApp: directly in the simulation engine,
as Flower's ``run_config`` (flat, hyphenated keys) in the deployment engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from circuits.errors import ConfigurationError

from .circuit import ENCODINGS
from .partition import parse_partition

__all__ = ["STRATEGIES", "FedConfig", "parse_faults"]

STRATEGIES = ("fedavg", "fedprox")
FAULT_KINDS = ("crash", "slow", "shape")


def parse_faults(text: str) -> list[tuple[str, int, int]]:
    """Injected faults for tests and demos: ``"crash:ROUND:CLIENT,slow:ROUND:CLIENT,shape:..."``
    (``crash``: the client raises; ``slow``: it sleeps past the round timeout; ``shape``: it
    replies with arrays of the wrong shape). Returns ``(kind, round, partition_id)`` triples."""
    out = []
    for item in filter(None, (s.strip() for s in str(text or "").split(","))):
        parts = item.split(":")
        if len(parts) != 3 or parts[0] not in FAULT_KINDS or not all(p.isdigit() for p in parts[1:]):
            raise ConfigurationError(
                f"bad fault {item!r}: write KIND:ROUND:CLIENT with KIND one of {', '.join(FAULT_KINDS)}"
            )
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


@dataclass
class FedConfig:
    """One federated run: data and partition, model, strategy, local training, faults, output."""

    dataset: str = "digits"
    clients: int = 10
    rounds: int = 20
    partition: str = "dirichlet:0.5"
    strategy: str = "fedavg"
    proximal_mu: float = 0.01
    fraction: float = 1.0
    local_epochs: int = 1
    batch_size: int = 16
    lr: float = 0.02
    seed: int = 0
    qubits: int = 6
    encoding: str = "repeated"
    degree: int = 2
    layers: int = 4
    engine: str = "torch"
    round_timeout: float = 600.0
    faults: str = ""
    out_dir: str = ""
    resume: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """ConfigurationError naming the first bad setting."""
        parse_partition(self.partition)
        parse_faults(self.faults)
        if self.strategy not in STRATEGIES:
            raise ConfigurationError(
                f"strategy must be one of {', '.join(STRATEGIES)}; got {self.strategy!r}"
            )
        if self.encoding not in ENCODINGS:
            raise ConfigurationError(f"encoding must be one of {', '.join(ENCODINGS)}; got {self.encoding!r}")
        for name in ("clients", "rounds", "local_epochs", "batch_size", "qubits", "degree", "layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name.replace('_', '-')} must be an integer >= 1; got {value!r}")
        if not 0 < self.fraction <= 1:
            raise ConfigurationError(f"fraction must be in (0, 1]; got {self.fraction}")
        if not self.lr > 0 or not self.round_timeout > 0 or self.proximal_mu < 0:
            raise ConfigurationError("lr and round-timeout must be > 0 and proximal-mu >= 0")

    def model_options(self) -> dict[str, Any]:
        return {
            "qubits": self.qubits,
            "encoding": self.encoding,
            "degree": self.degree,
            "layers": self.layers,
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_run_config(self) -> dict[str, Any]:
        """Flower's run config: hyphenated keys, scalar values."""
        return {k.replace("_", "-"): v for k, v in self.to_dict().items()}

    @classmethod
    def from_run_config(cls, config: dict[str, Any]) -> FedConfig:
        """Back from a run config (unknown keys are ignored: Flower may add its own)."""
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in dict(config).items():
            name = key.replace("-", "_")
            if name in fields:
                default = getattr(cls, name)
                values[name] = type(default)(value) if default is not None else value
        return cls(**values)
