"""Standalone timing workers, one per peer that cannot share ketml's environment; each runs in
its own virtual environment (``benchmarks/peer_envs.py``) and speaks JSON lines on stdin/stdout."""
