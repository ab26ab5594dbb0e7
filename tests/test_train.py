"""The generic loop on the Deep Steganography task: learning, no retrace, sharding, resume, NaN guard."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import deepstego_embedded
from jaxsteg import checkpoint
from jaxsteg import sharding
from jaxsteg import train
from jaxsteg.data import pipeline


def _setup(config):
  ds = train.tasks.get_task(config.task).train_dataset(config)
  example = ds[0]
  return train.make_setup(config, example), example


def _init(config, setup, example):
  init = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)
  return init(jax.random.key(config.seed), sharding.to_global(example, setup.batch_sharding))


def test_steps_lower_the_loss_on_a_fixed_batch_without_retracing():
  config = deepstego_embedded.get_config("tiny")
  config.optim.warmup_steps = 0
  config.optim.schedule = "constant"   # The tiny cosine schedule would decay to 0 within these steps.
  setup, example = _setup(config)
  assert setup.mesh.devices.size == 8
  state = _init(config, setup, example)
  step = train.make_train_step(config, setup, max_traces=1)
  batch = sharding.to_global(example, setup.batch_sharding)
  losses = []
  with jax.set_mesh(setup.mesh):
    for _ in range(6):
      state, m = step(state, batch)
      losses.append(float(m["loss"]))
  assert losses[-1] < 0.75 * losses[0], losses
  assert int(state["step"]) == 6
  # A second trace (e.g. a changed batch shape) would raise in chex; the jit cache holds one entry.
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_retrace_is_detected():
  config = deepstego_embedded.get_config("tiny")
  setup, example = _setup(config)
  state = _init(config, setup, example)
  step = train.make_train_step(config, setup, max_traces=1)
  other = jax.tree.map(lambda x: np.concatenate([x, x]), example)  # A new shape forces a new trace.
  with jax.set_mesh(setup.mesh):
    state, _ = step(state, sharding.to_global(example, setup.batch_sharding))
    with pytest.raises(train.RetraceError, match="traced 2 times"):
      step(state, sharding.to_global(other, setup.batch_sharding))


def test_task_step_traces_once_over_many_steps():
  """chex's trace counter on the task's own step function, jitted as the loop does."""
  config = deepstego_embedded.get_config("tiny")
  setup, example = _setup(config)
  state = _init(config, setup, example)
  counted = chex.assert_max_traces(train.tasks.get_task("deepstego").train_step, n=1)
  step = jax.jit(lambda s, b: counted(config, s, b), donate_argnums=0)
  with jax.set_mesh(setup.mesh):
    for _ in range(3):
      state, _ = step(state, sharding.to_global(example, setup.batch_sharding))
  assert int(state["step"]) == 3


def test_sharded_step_equals_single_device_step():
  results = []
  for devices in (8, 1):
    config = deepstego_embedded.get_config("tiny")
    config.num_devices = devices
    setup, example = _setup(config)
    state = _init(config, setup, example)
    step = train.make_train_step(config, setup, max_traces=None)
    batch = sharding.to_global(example, setup.batch_sharding)
    with jax.set_mesh(setup.mesh):
      for _ in range(2):
        state, m = step(state, batch)
    results.append((jax.device_get(state["params"]), float(m["loss"])))
  (p8, l8), (p1, l1) = results
  np.testing.assert_allclose(l8, l1, rtol=1e-5)
  chex.assert_trees_all_close(p8, p1, atol=1e-5, rtol=1e-4)


def test_microbatches_give_the_same_gradients():
  config = deepstego_embedded.get_config("tiny")
  config.loss.noise_std = 0.0   # Noise is drawn per micro-batch; without it the results must match.
  setup, example = _setup(config)
  state = _init(config, setup, example)
  outs = []
  for n in (1, 2):
    config.microbatches = n
    step = train.make_train_step(config, setup, max_traces=None)
    with jax.set_mesh(setup.mesh):
      new_state, m = step(jax.tree.map(jnp.copy, state), sharding.to_global(example, setup.batch_sharding))
    outs.append((jax.device_get(new_state["params"]), float(m["loss"])))
  np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5)
  chex.assert_trees_all_close(outs[0][0], outs[1][0], atol=1e-5, rtol=1e-4)


def _rows(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f if "train/loss" in line]


def _params(workdir, step):
  config = deepstego_embedded.get_config("tiny")
  setup, _ = _setup(config)
  state, data = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False).restore(
      step, setup.abstract_state)
  return jax.device_get(state["params"]), data


def test_resume_is_exact(tiny_run, tmp_path):
  config = deepstego_embedded.get_config("tiny")   # 4 steps, log and checkpoint every 2.
  _, straight, means_straight = tiny_run           # The session's uninterrupted run of this config.

  resumed = str(tmp_path / "resumed")
  assert train.train_and_evaluate(config, resumed, stop_at_step=2) == {}
  means_resumed = train.train_and_evaluate(config, resumed)

  p_straight, data_straight = _params(straight, 4)
  p_resumed, data_resumed = _params(resumed, 4)
  chex.assert_trees_all_equal(p_straight, p_resumed)
  assert data_straight == data_resumed == {"next_index": 4}
  rows_straight = {r["step"]: r for r in _rows(straight)}
  rows_resumed = {r["step"]: r for r in _rows(resumed)}
  assert rows_straight[4] == rows_resumed[4]
  assert means_straight == means_resumed


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path):
  config = deepstego_embedded.get_config("tiny")
  config.num_train_steps = 2
  workdir = str(tmp_path / "nan")
  train.train_and_evaluate(config, workdir)            # A good checkpoint at step 2.
  config.num_train_steps = 6
  config.optim.learning_rate = 1e30                    # Blows the parameters up at once.
  config.optim.warmup_steps = 0
  with pytest.raises(train.NonFiniteLossError, match="last good checkpoint is step 2"):
    train.train_and_evaluate(config, workdir)
  ckpt = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False)
  assert ckpt.latest_step() == 2
  params, _ = _params(workdir, 2)
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(params))


def test_eval_uses_8bit_containers_and_counts_every_image(tiny_run):
  config, workdir, means = tiny_run
  with open(os.path.join(workdir, "eval", "4", "metrics.json")) as f:
    record = json.load(f)
  assert record["num_examples"] == 12            # 12 images in batches of 8: the padded half-batch counts 4.
  assert record["metrics"]["container_psnr"] == pytest.approx(means["container_psnr"])
  assert os.path.exists(os.path.join(workdir, "eval", "4", "grid.png"))
  assert os.path.exists(os.path.join(workdir, "eval", "4", "results.md"))

  setup, _ = _setup(config)
  state, _ = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False).restore(
      4, setup.abstract_state)
  es = pipeline.make_eval_set(config.data, num_secrets=1)
  batch = next(pipeline.eval_batches(es, 8))
  per, images = train.tasks.get_task("deepstego").eval_step(config, state, batch)
  c255 = np.asarray(images["container"]) * 255
  np.testing.assert_allclose(c255, np.round(c255), atol=1e-3)
  assert per["container_psnr"].shape == (8,)


def test_resuming_with_a_changed_config_says_what_changed(tmp_path):
  assert checkpoint.write_config(tmp_path, json.dumps({"seed": 0, "optim": {"lr": 1.0}})) == []
  assert checkpoint.write_config(tmp_path, json.dumps({"seed": 0, "optim": {"lr": 1.0}})) == []
  changes = checkpoint.write_config(tmp_path, json.dumps({"seed": 0, "optim": {"lr": 0.5, "clip": 1}}))
  assert changes == ["optim.clip: '(absent)' -> 1", "optim.lr: 1.0 -> 0.5"]
  assert json.loads((tmp_path / "config.previous.json").read_text())["optim"]["lr"] == 1.0
  assert json.loads((tmp_path / "config.json").read_text())["optim"]["lr"] == 0.5
