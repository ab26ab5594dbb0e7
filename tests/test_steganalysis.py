"""CNN steganalysers: parameter counts against the papers, forward passes, the pair batches, and a :tiny detector
trained by the generic loop against LSB replacement that writes its held-out detection report."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import deepstego_embedded
from configs import steganalysis_embedded
from jaxsteg import errors
from jaxsteg import tasks
from jaxsteg import train
from jaxsteg.evaluators import common as evaluators
from jaxsteg.models import steganalysis as models
from jaxsteg.tasks import steganalysis as task


def _count(arch: str, channels: int) -> int:
  net = models.make_detector(arch)
  variables = jax.eval_shape(lambda: net.init(jax.random.key(0), jnp.zeros((2, 32, 32, channels))))
  return models.num_params(variables)


def test_parameter_counts_match_the_papers():
  assert abs(_count("srnet", 1) - 4.78e6) / 4.78e6 < 0.01            # Boroumand et al.: 4.78 M with biases.
  assert _count("srnet", 1) == 4_779_105
  assert 14_000 <= _count("xunet", 1) <= 16_000                       # Xu et al.: ~15 k.
  assert _count("xunet", 3) == _count("xunet", 1) + 2 * 25 * 8       # Colour: only the first conv grows.
  assert 250_000 <= _count("srnet_slim", 3) <= 350_000
  with pytest.raises(ValueError, match="unknown steganalyser"):
    models.make_detector("resnet")


@pytest.mark.parametrize("arch", models.ARCHS)
def test_forward_gives_one_logit_per_image_and_training_moves_bn_statistics(arch):
  net = models.make_detector(arch)
  x = jax.random.uniform(jax.random.key(1), (2, 16, 16, 3), maxval=255.0)
  variables = jax.jit(net.init)(jax.random.key(0), x)
  logits, (_, updates) = jax.jit(lambda v, x: (net.apply(v, x), net.apply(v, x, train=True, mutable=["batch_stats"]))
                                 )(variables, x)
  assert logits.shape == (2,) and np.all(np.isfinite(logits))
  moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), updates["batch_stats"],
                       variables["batch_stats"])
  assert min(jax.tree.leaves(moved)) > 0.0                            # Every BN layer updates its statistics.


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_jit_equals_no_jit(kind):
  """XuNet whole (kind 0), and each SRNet layer type (the full and slim SRNets are stacks of them)."""
  net = models.XuNet() if kind == 0 else models.SRNetLayer(kind, 4)
  x = jax.random.uniform(jax.random.key(1), (2, 8, 8, 4), maxval=255.0)
  fn = (lambda v, x: net.apply(v, x)) if kind == 0 else (lambda v, x: net.apply(v, x, False))
  variables = net.init(jax.random.key(0), x) if kind == 0 else net.init(jax.random.key(0), x, False)
  np.testing.assert_allclose(fn(variables, x), jax.jit(fn)(variables, x), rtol=1e-4, atol=1e-3)


def test_kv_high_pass_removes_flat_and_linear_images():
  ramp = jnp.broadcast_to(jnp.arange(16.0)[None, :, None, None], (1, 16, 16, 2)) * 3.0 + 7.0
  out = models.high_pass(ramp, models.KV)
  np.testing.assert_allclose(out[:, 2:-2, 2:-2], 0.0, atol=1e-4)     # Away from the zero-padded border.
  np.testing.assert_allclose(models.SRM3.sum(axis=(1, 2)), 0.0)      # The SRM init kernels are high-pass too.
  kernel = np.asarray(models.high_pass_init(jax.random.key(0), (3, 3, 3, 30)))
  np.testing.assert_array_equal(kernel[:, :, 0, 0], models.SRM3[0])
  np.testing.assert_array_equal(kernel[:, :, 1, 4], models.SRM3[1])  # Filter j: kernel j // 3 on channel j % 3.
  assert not kernel[:, :, 1:, 0].any() and not kernel[:, :, [0, 2], 4].any()
  assert np.all(kernel[:, :, :, 27:] != 0)                            # Beyond 9 kernels x 3 channels: random.


def test_pairs_get_one_transform_and_sit_side_by_side():
  rng = np.random.default_rng(0)
  cover = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
  container = cover ^ rng.integers(0, 2, (8, 8, 3), dtype=np.uint8)
  seen = set()
  for seed in range(12):
    c, s = task.augment_pair(cover, container, np.random.default_rng(seed), flip=True, rot90=True)
    np.testing.assert_array_equal(c ^ s, task.augment_pair(cover ^ container, cover ^ container,
                                                           np.random.default_rng(seed), True, True)[0])
    seen.add(c.tobytes())
  assert len(seen) > 3                                                # Several of the 8 transforms occur.
  batch = {"cover": jnp.zeros((3, 4, 4, 3), jnp.uint8), "container": jnp.ones((3, 4, 4, 3), jnp.uint8)}
  images, labels = task.pair_images(batch)
  assert images.shape == (6, 4, 4, 3)
  np.testing.assert_array_equal(images[:, 0, 0, 0], labels)           # Cover, its container, cover, ...


def test_tiny_detector_trains_in_the_loop_and_reports_held_out_detection(tmp_path):
  config = steganalysis_embedded.get_config("tiny,arch=xunet,spec=lsbr:1.0")
  means = train.train_and_evaluate(config, str(tmp_path))
  step = config.num_train_steps
  det = json.loads((tmp_path / "eval" / str(step) / "detection.json").read_text())
  assert det["num_pairs"] == 142 and det["num_train_pairs"] == min(config.data.train_pairs, step * config.batch_size)
  assert det["hider"]["name"] == "lsbr:1" and det["detector"] == "xunet" and det["step"] == step
  for k in ("accuracy", "auc", "p_e"):
    assert 0.0 <= det[f"{k}_lo"] <= det[k] <= det[f"{k}_hi"] <= 1.0, (k, det)
    assert means[f"detect/{k}"] == pytest.approx(det[k])
  assert det["p_e"] <= 0.5 and det["p_e"] <= 1.0 - det["accuracy"] + 1e-9     # P_E: the best threshold's error.
  fa, dr = np.asarray(det["roc"]["false_alarm"]), np.asarray(det["roc"]["detection"])
  assert fa[0] == dr[0] == 0.0 and fa[-1] == dr[-1] == 1.0 and np.all(np.diff(fa) >= 0) and np.all(np.diff(dr) >= 0)
  assert str(step) in os.listdir(tmp_path / "checkpoints")


def test_bad_hider_or_detector_config_fails_before_training(tmp_path):
  for field, spec, error, message in (("spec", "/no/such/run", errors.RunError, "neither a workdir"),
                                      ("workdir", "/no/such/run", errors.RunError, "neither a workdir"),
                                      ("spec", "lsbm:1.5", errors.ConfigError, "rate"),
                                      ("spec", "", errors.ConfigError, "needs a hider")):
    config = steganalysis_embedded.get_config("tiny")
    config.hider[field] = spec
    with pytest.raises(error, match=message):
      train.train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run" / "checkpoints").exists()
  config = steganalysis_embedded.get_config("tiny")
  config.model.arch = "resnet"
  with pytest.raises(errors.ConfigError, match="unknown steganalyser"):
    train.train_and_evaluate(config, str(tmp_path / "run"))
  hider = deepstego_embedded.get_config("tiny")
  hider.evals.detection = config.evals.detection
  with pytest.raises(errors.ConfigError, match="needs a detector task"):
    evaluators.from_config(hider, tasks.get_task("deepstego"))
