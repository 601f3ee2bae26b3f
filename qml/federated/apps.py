"""The module-level ServerApp and ClientApp a deployed Flower App names in its pyproject.toml
(``qml.federated.apps:server_app`` / ``:client_app``); both read their settings from the run config."""

from __future__ import annotations

from .client import make_client_app
from .server import make_server_app

__all__ = ["client_app", "server_app"]

server_app = make_server_app()
client_app = make_client_app()
