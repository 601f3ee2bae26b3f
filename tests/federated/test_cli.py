"""``ketml federated`` / ``ketml privacy-attack``: bad input is one line and exit status 2."""

from __future__ import annotations

import socket

from typer.testing import CliRunner

from qml.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ketml: error: "), result.output
    return lines[0]


def test_help_names_both_engines_and_the_attack():
    out = invoke("federated", "--help").stdout
    for option in ("--clients", "--rounds", "--partition", "--simulation", "--deployment", "--out", "--json"):
        assert option in out
    assert "privacy-attack" in invoke("--help").stdout


def test_unparsable_partition(tmp_path):
    line = _error_line(invoke("federated", "--partition", "dirichlet:often", "--out", tmp_path))
    assert "cannot parse partition 'dirichlet:often'" in line


def test_more_clients_than_samples(tmp_path):
    line = _error_line(
        invoke("federated", "--dataset", "gaussian-classes", "--clients", "5000", "--out", tmp_path)
    )
    assert "5000 clients need at least 10000 samples" in line and "has 1200" in line


def test_unreachable_superlink_is_a_bounded_clear_error(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = invoke(
        "federated",
        "--deployment",
        "--superlink",
        f"127.0.0.1:{port}",
        "--reach-timeout",
        "1",
        "--dataset",
        "gaussian-classes",
        "--clients",
        "2",
        "--out",
        tmp_path,
    )
    line = _error_line(result)
    assert f"cannot reach a Flower SuperLink at 127.0.0.1:{port} within 1 s" in line


def test_privacy_attack_needs_a_finished_run(tmp_path):
    line = _error_line(invoke("privacy-attack", tmp_path))
    assert "is not a finished federated run" in line
