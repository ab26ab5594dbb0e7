"""Opt-in training stability (configs.common.add_stability, jaxsteg.rollback): a NaN step is skipped, a loss
spike rolls back to the last checkpoint with a halved learning rate, and configs without the block get no guard.

One short training of `invertible_embedded:tiny` (no final evaluation) with two injected faults, through the
task's `loss_weights` hook: the guide weight is NaN at the 3rd step (a NaN loss and NaN gradients), and all
weights are ×1000 at the 6th step while the learning rate is the configured one (a spike that a lower rate
"fixes", as a real one would be, so the run continues after one rollback).
"""

import json
import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import deepstego_embedded
from configs import invertible_embedded
from jaxsteg import optim
from jaxsteg import rollback
from jaxsteg import train
from jaxsteg.tasks import invertible

STEPS = 8


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
  config = invertible_embedded.get_config("tiny")
  with config.unlocked():
    config.num_train_steps = STEPS
    config.log_every = 2
    config.checkpoint_every = 2
  base_lr = config.optim.learning_rate
  original = invertible.loss_weights

  def faulty_weights(cfg, step):
    w = original(cfg, step)
    nan = jnp.where(step == 2, jnp.nan, 1.0)
    spike = jnp.where(step == 5, 1000.0, 1.0) if cfg.optim.learning_rate == base_lr else 1.0
    return {k: v * spike * (nan if k == "guide" else 1.0) for k, v in w.items()}

  workdir = tmp_path_factory.mktemp("faulty")
  records = []
  handler = logging.Handler()
  handler.emit = records.append
  logging.getLogger("absl").addHandler(handler)
  mp = pytest.MonkeyPatch()
  mp.setattr(invertible, "loss_weights", faulty_weights)
  try:
    train.train_and_evaluate(config, str(workdir), stop_at_step=STEPS)   # Stops (saved) before evaluating.
  finally:
    mp.undo()
    logging.getLogger("absl").removeHandler(handler)
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  return config, workdir, rows, [r.getMessage() for r in records]


def test_nan_step_is_skipped(faulty_run):
  _, workdir, rows, messages = faulty_run
  assert any("step 3: loss nan, update skipped" in m for m in messages)
  losses = {r["step"]: r["train/loss"] for r in rows if "train/loss" in r}
  assert 4 in losses and all(np.isfinite(v) for v in losses.values())   # Step 3 left out of the mean.
  assert (workdir / "checkpoints" / str(STEPS)).exists()


def test_spike_rolls_back_with_half_the_learning_rate(faulty_run):
  config, workdir, rows, messages = faulty_run
  events = rollback.read_events(workdir / "rollbacks.jsonl")
  assert len(events) == 1
  event = events[0]
  assert event["step"] == 6 and event["restored_step"] == 4
  assert event["loss"] > config.stability.spike_factor * event["median"]
  assert event["learning_rate"] == pytest.approx(0.5 * config.optim.learning_rate)
  assert any("rolled back to step 4" in m for m in messages)
  assert any(r.get("train/rollbacks") == 1 for r in rows)
  assert max(r["step"] for r in rows) == STEPS   # Training went on to the end after the rollback.
  # A resumed run keeps the lowered rate.
  guard = rollback.Guard(config, workdir)
  assert guard.scaled(config).optim.learning_rate == pytest.approx(0.5 * config.optim.learning_rate)


def test_skip_nonfinite_leaves_params_unchanged():
  config = invertible_embedded.get_config("tiny")
  with config.unlocked():
    config.optim.warmup_steps = 0   # A non-zero rate at step 0.
  tx = optim.make_optimizer(config.optim, 10)
  params = {"w": jnp.ones(3)}
  state = tx.init(params)
  updates, state = tx.update({"w": jnp.array([1.0, jnp.nan, 0.0])}, state, params)
  np.testing.assert_array_equal(optax.apply_updates(params, updates)["w"], params["w"])
  updates, _ = tx.update({"w": jnp.ones(3)}, state, params)
  assert float(jnp.max(jnp.abs(updates["w"]))) > 0


def test_opt_in_only():
  """Configs without the block train as before: no guard, no apply_if_finite wrapper."""
  config = deepstego_embedded.get_config("tiny")
  assert "stability" not in config and rollback.maybe_guard(config, "/nonexistent") is None
  state = optim.make_optimizer(config.optim, 10).init({"w": jnp.ones(2)})
  assert not any(isinstance(s, optax.ApplyIfFiniteState) for s in jax.tree.leaves(
      state, is_leaf=lambda s: isinstance(s, optax.ApplyIfFiniteState)))
