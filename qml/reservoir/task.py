"""The ``reservoir-forecast`` task: a catalogued series prepared by :func:`.forecast.load_series`,
a reservoir model, and a ridge-readout fit (the regulariser chosen on validation data) as the
task's own fit; headline: test NRMSE (RMSE / std of the test target)."""

from __future__ import annotations

import time

from qml.registry import register_task
from qml.training.runs import write_json
from qml.training.task import Prepared, Task

from .forecast import fit_forecast, load_series

#: datasets the task forecasts (corrosion: one site, weather and observed loss -> loss h ahead)
DATASETS = ("corrosion", "narma10-reservoirpy", "narma10", "mackey-glass")


class ReservoirForecast(Task):
    name = "reservoir-forecast"
    kind = "time series"
    metric = "test_nrmse"
    metric_label = "test NRMSE"
    description = "fixed reservoir + ridge readout forecasting a series h steps ahead (test NRMSE)"

    def datasets(self) -> tuple[str, ...]:
        return DATASETS

    def load(
        self,
        dataset,
        *,
        seed=0,
        subset=None,
        test_subset=None,
        data_root=None,
        horizon: int = 1,
        site: str = "coastal",
        n_points: int = 2000,
        washout: int = 100,
    ):
        series = load_series(
            dataset,
            horizon=horizon,
            seed=seed,
            n_points=n_points,
            site=site,
            washout=washout,
            data_root=data_root,
        )
        dims = {"n_inputs": series.u.shape[1]}
        record = {"horizon": horizon, "site": site if dataset == "corrosion" else None}
        return Prepared(series, dims=dims, record=record)

    def fit(self, model, prepared, config, *, out_dir, title, progress, resume, extra):
        start = time.perf_counter()
        result = fit_forecast(model.features, prepared.train)
        if result["readout"] is not None:
            model.readout = result["readout"]
        import torch

        torch.save(model.state_dict(), out_dir / "model.pt")
        metrics = {
            **extra,
            "test_nrmse": result["nrmse"],
            "test_rmse": result["rmse"],
            "alpha": result["alpha"],
            "n_features": result["n_features"],
            "n_parameters": result["n_features"] + 1,
            "train_seconds": time.perf_counter() - start,
        }
        write_json(out_dir / "metrics.json", metrics)
        return metrics

    def headline(self, metrics):
        return (
            f"test NRMSE: {metrics['test_nrmse']:.4f} (RMSE {metrics['test_rmse']:.4g}; "
            f"{metrics['n_features']} features, ridge alpha {metrics['alpha']}, "
            f"{metrics['train_seconds']:.1f} s)"
        )


register_task(ReservoirForecast())
