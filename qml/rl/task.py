"""The rl task: an environment from :mod:`data.environments`, a registered recurrent model as the
core of an actor-critic, and A2C as the task's own fit (episodes, not epochs over a dataset)."""

from __future__ import annotations

from data.environments import make_env
from qml.registry import register_task
from qml.training.task import Prepared, Task

from .a2c import A2CConfig, train_a2c
from .agent import RecurrentActorCritic


class ReinforcementLearning(Task):
    name = "rl"
    kind = "RL environment"
    metric = "mean_return"
    metric_label = "mean return"
    description = "gymnasium/MiniGrid episodes; the model is the core of an actor-critic trained by A2C"

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None):
        env = make_env(dataset, seed)
        dims = {"obs_dim": env.obs_dim, "n_actions": env.n_actions}
        env.close()
        return Prepared(dataset, dims=dims)

    def build(self, spec, dims, engine, options):
        opts = {**spec.preset("", self.name).options, **options}  # runs saved before presets held them
        n_inputs = opts.pop("n_inputs", None)
        normalize_obs = bool(opts.pop("normalize_obs", False))

        def core(n_in: int, n_out: int):
            return spec.build({"input_size": n_in, "output_size": n_out}, engine=engine, **opts)

        return RecurrentActorCritic(
            core, dims["obs_dim"], dims["n_actions"], n_inputs=n_inputs, normalize_obs=normalize_obs
        )

    def fit(self, model, prepared, config, *, out_dir, title, progress, resume, extra):
        a2c = A2CConfig(
            episodes=config.epochs, lr=config.lr, seed=config.seed, grad_clip=config.grad_clip or 1.0
        )
        return train_a2c(
            model, prepared.train, a2c, out_dir=out_dir, progress=progress, extra=extra, resume=resume
        )

    def headline(self, metrics):
        return (
            f"mean return: {metrics['mean_return']:.3f} over {metrics['eval_episodes']} episodes  "
            f"({metrics['n_parameters']} parameters, {metrics.get('train_seconds', 0):.0f} s training)"
        )


register_task(ReinforcementLearning())
