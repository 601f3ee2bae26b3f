"""Fixtures of the federated tests: Flower's task identity (needed to build a Message outside a
running Flower app) and a small run configuration."""

from __future__ import annotations

import pytest


@pytest.fixture
def flower_task():
    """Give this process a Flower task identity for the test, as a SuperNode would."""
    from flwr.supercore.task_identity import TaskIdentity

    saved = (TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id)
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1
    yield
    TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id = saved
