"""The bit-payload task (SteganoGAN-style): shapes, learning, critic clipping, sharding, the exact-text hook."""

import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import bits_embedded
from jaxsteg import metrics
from jaxsteg import sharding
from jaxsteg import train
from jaxsteg.evaluators import text_recovery
from jaxsteg.models import dense
from jaxsteg.payload import channel
from jaxsteg.payload import codec
from jaxsteg.tasks import bits as bits_task


@pytest.mark.parametrize("depth", [1, 4])
def test_networks_shapes(depth):
  config = bits_embedded.get_config(f"tiny,depth={depth}")
  nets = dense.make_networks(config.model)
  cover = jnp.zeros((2, 20, 12, 3))
  bits = jnp.ones((2, 20, 12, depth))
  p = nets["encoder"].init(jax.random.key(0), cover, bits)
  assert nets["encoder"].apply(p, cover, bits).shape == cover.shape
  p = nets["decoder"].init(jax.random.key(1), cover)
  assert nets["decoder"].apply(p, cover).shape == (2, 20, 12, depth)
  p = nets["critic"].init(jax.random.key(2), cover)
  assert nets["critic"].apply(p, cover).shape == (2,)


def _setup(config):
  ds = bits_task.train_dataset(config)
  example = ds[0]
  return train.make_setup(config, example), example


def test_steps_learn_and_clip_the_critic():
  config = bits_embedded.get_config("tiny")
  config.optim.warmup_steps = 0
  config.optim.schedule = "constant"
  config.optim.learning_rate = 3e-3
  config.loss.critic_weight = 1.0     # The demo config turns the critic off; SteganoGAN's loss has it.
  config.loss.psnr_target = 0.0
  setup, example = _setup(config)
  assert example["cover"].shape == (8, 16, 16, 3) and example["cover"].dtype == np.uint8
  state = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)(
      jax.random.key(0), sharding.to_global(example, setup.batch_sharding))
  step = train.make_train_step(config, setup, max_traces=1)
  batch = sharding.to_global(example, setup.batch_sharding)
  history = []
  with jax.set_mesh(setup.mesh):
    for _ in range(8):
      state, m = step(state, batch)
      history.append(jax.device_get(m))
  assert history[-1]["loss"] < history[0]["loss"], [h["loss"] for h in history]
  assert {"bce", "bit_accuracy", "rs_bpp", "cover_psnr", "critic_loss"} <= set(history[-1])
  assert history[-1]["critic_loss"] != history[0]["critic_loss"]   # The critic is trained too.
  leaves = jax.tree.leaves(state["params"]["critic"])
  assert max(float(jnp.max(jnp.abs(x))) for x in leaves) <= config.loss.critic_clip + 1e-7


def test_sharded_step_equals_single_device_step():
  results = []
  for devices in (8, 1):
    config = bits_embedded.get_config("tiny")
    config.num_devices = devices
    setup, example = _setup(config)
    state = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)(
        jax.random.key(0), sharding.to_global(example, setup.batch_sharding))
    step = train.make_train_step(config, setup)
    with jax.set_mesh(setup.mesh):
      state, _ = step(state, sharding.to_global(example, setup.batch_sharding))
    results.append(jax.device_get(state["params"]))
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6), *results)


def test_eval_set_is_fixed_per_cover():
  config = bits_embedded.get_config("tiny")
  es = bits_task.eval_set(config)
  a, b = es.example(3), es.example(3)
  np.testing.assert_array_equal(a["bits"], b["bits"])
  assert a["cover"].shape == (48, 48, 3) and a["bits"].shape == (48, 48, config.model.depth)
  assert not np.array_equal(es.example(4)["bits"], a["bits"])


def test_tiny_run_with_exact_text_evaluation(trained_tiny):
  """The whole loop at :tiny, with the text path on every held-out cover (an untrained model: no recovery,
  but every metric is reported and the per-cover file is written)."""
  config, workdir, means = trained_tiny("bits_embedded")
  for k in ("container_psnr", "container_ssim", "bit_accuracy", "rs_bpp", "text_exact_recovery",
            "text_net_bpp", "text_capacity_bytes_mean", "text_probe_ber_mean", "text_carried_fraction"):
    assert k in means and np.isfinite(means[k]), k
  with open(f"{workdir}/eval/4/text_eval.json") as f:
    record = json.load(f)
  assert len(record["per_cover"]) == config.data.eval_max_examples


class _PerfectChannel:
  """Stands in for trained networks: the container is the cover; the decoder returns the bits it was given."""

  def __init__(self):
    self.last = None

  def hide(self, config, params, covers, bits, fns=None):
    self.last = bits
    return covers

  def reveal(self, config, params, container, fns=None):
    return self.last.astype(np.float32) * 2 - 1


def test_text_recovery_evaluator_recovers_text_over_a_perfect_channel(tmp_path, monkeypatch):
  from etils import epath  # pylint: disable=g-import-not-at-top
  config = bits_embedded.get_config("tiny")
  config.data.eval_size = 64
  config.evals.text_recovery.bpp = 0.5
  perfect = _PerfectChannel()
  monkeypatch.setattr(channel, "hide_bits_batch", perfect.hide)
  monkeypatch.setattr(channel, "reveal_logits_batch", perfect.reveal)
  state = {"params": {}}
  setup = types.SimpleNamespace(task=bits_task)
  out = text_recovery.run(config, setup, state, bits_task.eval_set(config), epath.Path(tmp_path))
  assert out["text_exact_recovery"] == 1.0 and out["text_net_bpp"] == 0.5
  assert out["text_probe_ber_max"] == 0.0 and out["text_carried_fraction"] == 1.0
  assert out["text_capacity_bytes_min"] >= 256 == out["text_bytes"]
  assert out["text_wrong_text"] == 0


def test_sample_text_is_exact_utf8_length():
  rng = np.random.default_rng(0)
  for n in (0, 1, 5, 1024):
    t = text_recovery.sample_text(rng, n)
    assert len(t.encode("utf-8")) == n
  assert codec.capacity(128, 128, 2, ber=0.01, encrypted=True) > 1024


def test_refinement_lowers_bit_errors_keeps_the_psnr_floor_and_treats_examples_independently():
  """Hide-time refinement on an untrained tiny model: fewer bit errors than the encoder's own container, the
  PSNR floor held, 8-bit output, and a batch gives each example what it would get alone (split over devices)."""
  config = bits_embedded.get_config("tiny")
  config.eval.refine_steps, config.eval.refine_psnr, config.eval.refine_tolerance = 30, 30.0, 0.0
  rng = np.random.default_rng(0)
  covers = rng.integers(30, 225, (3, 16, 16, 3), dtype=np.uint8)
  bits = rng.integers(0, 2, (3, 16, 16, config.model.depth), dtype=np.uint8)
  state = bits_task.init_state(config, jax.random.key(0), {"cover": jnp.asarray(covers)})
  params = jax.device_get(state["params"])
  plain = channel.host_channel(ml_override(config, refine_steps=0))
  fns = channel.host_channel(config, jax.local_devices()[:2])

  def errors(containers, f):
    logits = channel.reveal_logits_batch(config, params, containers, f)
    return np.sum((logits > 0) != (bits > 0), axis=(1, 2, 3))

  before = errors(channel.hide_bits_batch(config, params, covers, bits, plain), plain)
  refined = channel.hide_bits_batch(config, params, covers, bits, fns)
  after = errors(refined, fns)
  assert refined.dtype == np.uint8 and refined.shape == covers.shape
  assert np.all(after <= before) and after.sum() < before.sum()
  psnr = np.asarray(metrics.psnr(covers / 255.0, refined / 255.0))
  assert np.all(psnr >= 30.0 - 0.3), psnr   # The floor, within one straight-through rounding step.
  alone = channel.hide_bits(config, params, covers[1], bits[1], channel.host_channel(config))
  np.testing.assert_array_equal(alone, refined[1])


def test_hide_text_refines_only_when_the_encoders_container_has_too_many_errors():
  """hide-text reads the encoder's own container first and runs the refining program only when the receiver
  finds more bit errors in it than the refinement would stop at (then with the message's tolerance)."""
  config = bits_embedded.get_config("tiny")
  depth = config.model.depth
  cover = np.random.default_rng(0).integers(30, 225, (96, 96, 3), dtype=np.uint8)

  def embed(params, covers, bits):   # The least significant bit of the first `depth` channels.
    del params
    c = np.round(np.asarray(covers) * 255.0)
    c[..., :depth] += np.asarray(bits) - c[..., :depth] % 2
    return c / 255.0

  def decode(params, containers):
    del params
    return np.round(np.asarray(containers) * 255.0)[..., :depth] % 2 * 2.0 - 1.0

  refined = []

  def refine(params, covers, bits, enough):
    refined.append(int(enough))
    return embed(params, covers, bits)

  def never(*args):
    raise AssertionError("hide-text encodes with the encoder's container or with a tolerance, not with `encode`")

  text = "The quick brown fox. " * 8
  _, logits, measured = channel.hide_text(config, None, cover, text, fns=channel.HostChannel(
      never, decode, 1, refine, embed))
  assert not refined and measured == 0.0 and codec.decode_text(logits) == text
  flips = np.random.default_rng(1).random((96, 96, depth)) < 0.3

  def misread(params, containers):
    return np.where(flips, -1.0, 1.0) * decode(params, containers)

  with pytest.raises(codec.PayloadTooLarge):   # 30 % errors: refined (here in vain), then refused.
    channel.hide_text(config, None, cover, text, fns=channel.HostChannel(never, misread, 1, refine, embed))
  assert len(refined) == 1 and refined[0] < 0.3 * flips.size


def ml_override(config, **eval_fields):
  c = config.copy_and_resolve_references()
  c.eval.update(eval_fields)
  return c
