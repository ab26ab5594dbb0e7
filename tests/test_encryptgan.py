"""EncryptGAN: one jitted step updates all five networks; the image pool is state that checkpoints round-trip;
the pool follows CycleGAN's rule; key images; evaluation outputs (wrong keys, key sensitivity, grid)."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import encryptgan_embedded
from jaxsteg import checkpoint
from jaxsteg import sharding
from jaxsteg import train
from jaxsteg.data import domains
from jaxsteg.data import pipeline
from jaxsteg.evaluators import fid_lpips as fid
from jaxsteg.models import encryptgan as models
from jaxsteg.tasks import encryptgan as task


@pytest.fixture(scope="module")
def tiny_gan_run(trained_tiny):
  """The session's :tiny embedded run of the generic loop (4 steps, Orbax checkpoints with the data position at
  2 and 4, the loop's evaluation), and the loop's parts to continue it: setup, dataset, compiled step."""
  config, workdir, means = trained_tiny("encryptgan_embedded")
  ds = task.train_dataset(config)
  setup = train.make_setup(config, ds[0])
  step = train.make_train_step(config, setup, max_traces=1)
  return config, workdir, means, (setup, ds, step)


@pytest.fixture(scope="module")
def loop_parts(tiny_gan_run):
  return tiny_gan_run[3]


def _key(seed):
  return jax.random.key(seed, impl=task.RNG_IMPL)   # Threefry compiles slowly on CPU.


def _restore(config, setup, workdir, step):
  ckpt = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False)
  try:
    return ckpt.restore(step, setup.abstract_state)
  finally:
    ckpt.close()


def test_one_jitted_step_updates_all_five_networks_and_the_pool(tiny_gan_run, loop_parts):
  config, workdir, _, _ = tiny_gan_run
  setup, ds, step = loop_parts
  state, data_state = _restore(config, setup, workdir, 2)
  before = jax.device_get(state)
  with jax.set_mesh(setup.mesh):
    new_state, m = step(state, sharding.to_global(ds[data_state["next_index"]], setup.batch_sharding))
  after = jax.device_get(new_state)
  assert set(after["params"]) == {"F", "G", "D_X", "D_Y", "K"}
  for name in after["params"]:
    changed = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before["params"][name]),
                                                         jax.tree.leaves(after["params"][name]))]
    assert any(changed), f"network {name} was not updated"
  assert int(after["step"]) == 3
  assert not np.array_equal(before["pool"]["x"], after["pool"]["x"]) or not np.array_equal(
      before["pool"]["y"], after["pool"]["y"])
  assert all(np.isfinite(float(v)) for v in jax.device_get(m).values())


def test_pool_round_trips_through_the_loops_checkpoint(tiny_gan_run, loop_parts):
  """Restore step 2 (written by the loop), run steps 3-4 on the saved data position: equal to checkpoint 4."""
  config, workdir, _, _ = tiny_gan_run
  setup, ds, step = loop_parts
  state2, data2 = _restore(config, setup, workdir, 2)
  state4, _ = _restore(config, setup, workdir, 4)
  pool2 = jax.device_get(state2["pool"])
  assert int(pool2["count_x"]) == int(pool2["count_y"]) == config.model.pool_size   # 2 × 8 images seen.
  assert np.abs(pool2["x"]).sum() > 0 and np.abs(pool2["y"]).sum() > 0
  assert pool2["x"].shape == (config.model.pool_size, config.data.image_size, config.data.image_size, 3)
  it = pipeline.make_train_iter(ds, data2)
  with jax.set_mesh(setup.mesh):
    state = state2
    for _ in range(2):
      state, _ = step(state, sharding.to_global(next(it), setup.batch_sharding))
  chex.assert_trees_all_equal(jax.device_get(state["pool"]), jax.device_get(state4["pool"]))
  chex.assert_trees_all_equal(jax.device_get(state["params"]), jax.device_get(state4["params"]))


def test_pool_follows_cyclegans_rule():
  size, rng = 4, _key(0)
  pool, count = jnp.zeros((size, 2, 2, 3)), jnp.zeros((), jnp.int32)
  first = jnp.arange(3, dtype=jnp.float32)[:, None, None, None] * jnp.ones((3, 2, 2, 3)) + 1
  query = jax.jit(task.pool_query)
  shown, pool, count = query(pool, count, first, rng)
  np.testing.assert_array_equal(shown, first)                  # Not full yet: shown as they come and stored.
  assert int(count) == 3
  np.testing.assert_array_equal(pool[:3], first)
  many = 10.0 + jnp.arange(200, dtype=jnp.float32)[:, None, None, None] * jnp.ones((200, 2, 2, 3))
  shown, pool, count = query(pool, count, many, _key(1))
  assert int(count) == size
  from_pool = np.asarray(shown[:, 0, 0, 0] != many[:, 0, 0, 0])
  assert 0.35 < from_pool[1:].mean() < 0.65                    # Once full: a stored image half of the time.
  assert set(np.unique(pool[:, 0, 0, 0])) <= set(np.unique(np.concatenate([first[:, 0, 0, 0], many[:, 0, 0, 0]])))


def test_key_images_and_generator_shapes():
  config = encryptgan_embedded.get_config("tiny")
  nets = task.networks(config)
  x = jax.random.uniform(_key(0), (2, 16, 16, 3), minval=-1, maxval=1)

  @jax.jit
  def run(x):
    pk = nets["K"].init(_key(1), x)
    logits, feats = nets["K"].apply(pk, x)
    key = models.key_image(feats, (16, 16))
    pf = nets["F"].init(_key(2), x, key)
    return logits, jnp.asarray(len(feats)), key, nets["F"].apply(pf, x, key), nets["F"].apply(pf, x[:1], key[:1])

  logits, num_feats, key, y, y0 = run(x)
  assert logits.shape == (2, 2) and num_feats == 6
  assert key.shape == (2, 16, 16, 3)
  np.testing.assert_allclose(jnp.min(key, axis=(1, 2)), -1.0, atol=1e-5)   # Each map min-max scaled.
  np.testing.assert_allclose(jnp.max(key, axis=(1, 2)), 1.0, atol=1e-5)
  assert y.shape == x.shape and float(jnp.max(jnp.abs(y))) <= 1.0
  # Instance norm is per example: one example's output does not depend on the others in the batch.
  np.testing.assert_allclose(y0, y[:1], atol=1e-5)


def test_training_pastes_half_the_time_and_evaluation_at_the_centre():
  config = encryptgan_embedded.get_config("tiny")
  ds = domains.make_train_dataset(config.data, global_batch=8, seed=0, process_index=0, process_count=1)
  regions = np.concatenate([ds[i]["region"] for i in range(12)])
  pasted = regions.reshape(len(regions), -1).max(1)
  assert 0.3 < pasted.mean() < 0.7
  b = ds[0]
  np.testing.assert_array_equal(b["pasted"] * (1 - b["region"]), b["x"] * (1 - b["region"]))
  ex = domains.make_eval_set(config.data).example(0)
  m, s = config.data.message_size, config.data.image_size
  off = (s - m) // 2
  assert ex["region"][off:off + m, off:off + m].all() and ex["region"].sum() == m * m


def test_evaluation_reports_right_and_wrong_keys_and_writes_curves(tiny_gan_run):
  config, workdir, means, _ = tiny_gan_run
  outdir = os.path.join(workdir, "eval", "4")
  with open(os.path.join(outdir, "metrics.json")) as f:
    record = json.load(f)["metrics"]
  for k in ("msg_psnr", "msg_ssim", "msg_mse", "msg_rmse", "wrong_msg_psnr", "security_msg_psnr",
            "security_msg_mse", "encryption_mse"):
    assert k in record and np.isfinite(record[k]), k
  assert record["security_num_wrong_keys"] == config.evals.key_sensitivity.num_wrong_keys
  np.testing.assert_allclose(record["security_msg_rmse"], np.sqrt(record["security_msg_mse"]), rtol=0.5)
  with open(os.path.join(outdir, "key_sensitivity.json")) as f:
    sens = json.load(f)
  assert [p["sigma"] for p in sens["sensitivity"]["key_noise"]] == list(config.evals.key_sensitivity.sigmas)
  np.testing.assert_allclose(sens["sensitivity"]["key_noise"][0]["psnr"], sens["right_key"]["psnr"], rtol=1e-5)
  for name in ("key_sensitivity.png", "grid.png"):
    assert os.path.getsize(os.path.join(outdir, name)) > 0
  assert means["msg_psnr"] == pytest.approx(record["msg_psnr"])


def test_frechet_distance():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((500, 4))
  assert fid.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
  assert fid.frechet_distance(a, a + 1.0) == pytest.approx(4.0, rel=1e-3)   # ‖Δμ‖² with equal covariances.
