"""How ``ketml`` reports failures: a ``KetmlError`` is one line and exit 2, a bug keeps its traceback;
command groups come from the ``ketml.commands`` entry points, and a broken one fails in one line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest
import typer

import qml.cli
import qml.cli.run
from circuits.errors import KetmlError, ParameterError
from qml.cli import CliError, app, cli_errors

from .test_run import BELL, invoke


def test_cli_error_is_a_ketml_error():
    assert issubclass(CliError, KetmlError)


def test_cli_errors_turns_ketml_errors_into_exit_2(capsys):
    with pytest.raises(typer.Exit) as caught, cli_errors():
        raise ParameterError("expected 3 values, got 2")
    assert caught.value.exit_code == 2
    assert capsys.readouterr().err == "ketml: error: expected 3 values, got 2\n"


def test_cli_errors_lets_other_exceptions_through():
    with pytest.raises(RuntimeError, match="a bug"), cli_errors():
        raise RuntimeError("a bug")
    with pytest.raises(ValueError, match="plain"), cli_errors():  # not raised on purpose: a bug too
        raise ValueError("plain")


def _raise(exc):
    def boom(*args, **kwargs):
        raise exc

    return boom


def test_ketml_error_inside_a_command_is_one_line_exit_2(tmp_path, monkeypatch):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    monkeypatch.setattr(qml.cli.run, "load_circuit", _raise(ParameterError("the circuit wants 3 values")))
    result = invoke("run", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["ketml: error: the circuit wants 3 values"]
    assert result.stdout == ""


def test_bug_inside_a_command_propagates(tmp_path, monkeypatch):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    monkeypatch.setattr(qml.cli.run, "load_circuit", _raise(RuntimeError("internal bug")))
    result = invoke("run", path)
    assert result.exit_code != 2
    assert isinstance(result.exception, RuntimeError)
    assert "internal bug" in str(result.exception)


def test_bug_prints_a_traceback_from_the_real_entry_point(tmp_path):
    path = tmp_path / "bell.qasm"
    path.write_text(BELL)
    code = textwrap.dedent(
        f"""
        import qml.cli.run
        def boom(*args, **kwargs):
            raise RuntimeError("internal bug")
        qml.cli.run.load_circuit = boom
        from qml.cli import main
        main(["run", {str(path)!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: internal bug" in proc.stderr
    assert "ketml: error" not in proc.stderr


@pytest.fixture
def fresh_app(monkeypatch):
    """The root app with its registrations restored after the test."""
    monkeypatch.setattr(app, "registered_commands", list(app.registered_commands))
    monkeypatch.setattr(app, "registered_groups", list(app.registered_groups))
    monkeypatch.setattr(qml.cli, "_loaded", set(qml.cli._loaded))
    return app


def _entry_points(*eps: EntryPoint):
    def select(group: str):
        return [ep for ep in eps if ep.group == group]

    return select


def test_entry_point_adds_a_command_group(fresh_app, monkeypatch):
    ep = EntryPoint(name="toy", value="tests.cli.toy_commands:app", group="ketml.commands")
    monkeypatch.setattr(qml.cli, "entry_points", _entry_points(ep))
    qml.cli.load_commands()
    result = invoke("toy", "hello", "--name", "ket")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello ket\n"
    assert "toy" in invoke("--help").stdout
    failed = invoke("toy", "broken")
    assert failed.exit_code == 2
    assert failed.stderr == "ketml: error: the toy data set is empty\n"


def test_entry_point_whose_module_imports_qml_cli_first(tmp_path):
    """Importing the plug-in first (it imports qml.cli.common, so qml.cli loads while the plug-in is
    half imported) still ends with its group added by the time ``main`` runs."""
    code = textwrap.dedent(
        """
        import importlib.metadata as md
        real = md.entry_points
        def entry_points(**kw):
            if kw.get("group") == "ketml.commands":
                return [md.EntryPoint("toy", "tests.cli.toy_commands:app", "ketml.commands")]
            return real(**kw)
        md.entry_points = entry_points
        import tests.cli.toy_commands
        from qml.cli import main
        main(["toy", "hello", "--name", "first"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello first\n"
    assert proc.stderr == ""


def test_broken_entry_point_fails_in_one_line_and_spares_the_rest(fresh_app, monkeypatch):
    ep = EntryPoint(name="broken", value="tests.cli.no_such_module:app", group="ketml.commands")
    monkeypatch.setattr(qml.cli, "entry_points", _entry_points(ep))
    qml.cli.load_commands()
    result = invoke("broken", "anything", "--at-all")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "'broken'" in lines[0] and "tests.cli.no_such_module" in lines[0]
    assert "ModuleNotFoundError" in lines[0]
    assert invoke("engines", "--json").exit_code == 0  # the other commands still work
