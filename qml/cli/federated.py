"""``ketml federated`` (federated training of the VQC on Flower's simulation or deployment
engine) and ``ketml privacy-attack RUN`` (the server's gradient-inversion attacks on a run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import CliError, cli_errors


@app.command()
def federated(
    clients: Annotated[int, typer.Option(help="SuperNodes (clients), one partition each.")] = 10,
    rounds: Annotated[int, typer.Option(help="Federated rounds.")] = 20,
    partition: Annotated[str, typer.Option(help="iid or dirichlet:ALPHA (label skew).")] = "dirichlet:0.5",
    dataset: Annotated[str, typer.Option(help="digits or gaussian-classes (the data catalogue).")] = "digits",
    strategy: Annotated[str, typer.Option(help="fedavg or fedprox.")] = "fedavg",
    proximal_mu: Annotated[float, typer.Option(help="FedProx's mu.")] = 0.01,
    local_epochs: Annotated[int, typer.Option(help="Local epochs per round.")] = 1,
    lr: Annotated[float, typer.Option(help="Local Adam learning rate.")] = 0.02,
    batch_size: Annotated[int, typer.Option(help="Local batch size.")] = 16,
    qubits: Annotated[int, typer.Option(help="VQC qubits.")] = 6,
    encoding: Annotated[str, typer.Option(help="angle, repeated or exponential.")] = "repeated",
    degree: Annotated[int, typer.Option(help="Encoding blocks (frequency degree).")] = 2,
    layers: Annotated[int, typer.Option(help="Ansatz layers.")] = 4,
    engine: Annotated[str, typer.Option(help="Circuit engine of the VQC.")] = "torch",
    simulation: Annotated[
        bool,
        typer.Option(
            "--simulation/--deployment",
            help="Flower's simulation engine (Ray, in this process) or the deployment engine "
            "(a SuperLink and SuperNodes as separate processes on loopback, or --superlink).",
        ),
    ] = True,
    superlink: Annotated[
        str | None,
        typer.Option(
            help="With --deployment: submit to this running SuperLink (HOST:PORT) instead of a local one."
        ),
    ] = None,
    reach_timeout: Annotated[
        float, typer.Option(help="With --superlink: seconds to wait for it to accept connections.")
    ] = 15.0,
    actors: Annotated[int, typer.Option(help="Ray actors (CPUs) of the simulation engine.")] = 2,
    round_timeout: Annotated[
        float, typer.Option(help="Seconds the server waits for a round's replies.")
    ] = 600.0,
    central: Annotated[
        bool, typer.Option(help="Also train the same model centrally on the pooled data.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the partition, the model and local training.")] = 0,
    out: Annotated[Path, typer.Option(help="Run folder (a rerun resumes from its last checkpoint).")] = Path(
        "runs/federated"
    ),
    fresh: Annotated[bool, typer.Option(help="Ignore a checkpoint in --out and start at round 1.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Train the VQC with FedAvg/FedProx over CLIENTS partitions of a catalogued dataset.

    The run folder holds metrics.json (the global test accuracy per round, left-out clients),
    checkpoint.pt (after every round: rerunning with the same --out resumes), model.pt,
    rounds.png and partition.png; with --central also central/ (the pooled-data baseline).
    """
    with cli_errors():
        from qml.federated.config import FedConfig
        from qml.federated.runs import train_central

        if superlink is not None and simulation:
            raise CliError("--superlink needs --deployment")
        cfg = FedConfig(
            dataset=dataset,
            clients=clients,
            rounds=rounds,
            partition=partition,
            strategy=strategy,
            proximal_mu=proximal_mu,
            local_epochs=local_epochs,
            lr=lr,
            batch_size=batch_size,
            qubits=qubits,
            encoding=encoding,
            degree=degree,
            layers=layers,
            engine=engine,
            round_timeout=round_timeout,
            seed=seed,
            out_dir=str(out.resolve()),
            resume=not fresh,
        )
        if simulation:
            from qml.federated.simulation import run_simulation

            metrics = run_simulation(cfg, actors=actors)
        else:
            from qml.federated.deployment import run_deployment

            metrics = run_deployment(cfg, superlink=superlink, reach_timeout=reach_timeout)
        if central:
            c = train_central(cfg, out / "central")
            metrics["central_test_accuracy"] = c["test_accuracy"]
            metrics["gap_pp"] = 100 * (c["test_accuracy"] - metrics["test_accuracy"])
    if as_json:
        typer.echo(json.dumps(metrics, indent=2, default=str))
        return
    line = f"federated test accuracy after {metrics['rounds_done']} rounds: {metrics['test_accuracy']:.4f}"
    if central:
        line += f" (central {metrics['central_test_accuracy']:.4f}, gap {metrics['gap_pp']:.2f} pp)"
    typer.echo(line)
    for e in metrics["events"]:
        typer.echo(f"  round {e['round']}: node {e['node']} left out ({e['kind']}: {e['detail']})")
    typer.echo(f"run folder: {out}")


@app.command("privacy-attack")
def privacy_attack(
    run: Annotated[Path, typer.Argument(help="A federated run folder (ketml federated --out).")],
    client: Annotated[int, typer.Option(help="The attacked client's partition id.")] = 0,
    sample: Annotated[int, typer.Option(help="The attacked sample within the client's partition.")] = 0,
    starts: Annotated[int, typer.Option(help="Random starts of each attack.")] = 32,
    steps: Annotated[int, typer.Option(help="Adam steps per start (then L-BFGS).")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """The server of RUN inverts one client's gradient for one sample: gradient matching, the
    Pauli-feature attack (up to 4 qubits) and the smoothed numerical attack; writes RUN/privacy.json."""
    with cli_errors():
        from qml.federated.study import attack_run

        result = attack_run(run, client=client, sample=sample, starts=starts, steps=steps)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for name in ("gradient_matching", "feature_attack", "numerical_attack"):
        if name in result:
            r = result[name]
            typer.echo(
                f"{name.replace('_', ' ')}: success {r['success_rate']:.2f} of {r['starts']} starts, "
                f"MSE of the answer {r['mse']:.3e}, {r['distinct_minima']} distinct minima"
            )
    typer.echo(f"written: {Path(run) / 'privacy.json'}")
