"""Invertible hiding (HiNet-class): the Haar transform and the network invert exactly, the inverse with the true
discarded half gives the secret back, jit changes nothing, every config trains at `:tiny`, and the `jaxsteg`
hide/reveal commands work on it through the ImageHider capability alone."""

import os

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from configs import invertible_embedded
from jaxsteg import cli
from jaxsteg import errors
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.models import invertible as models
from jaxsteg.tasks import invertible as task


def _images(key, b=2, h=8, w=12, c=3, dtype=jnp.float32):
  return jax.random.uniform(key, (b, h, w, c), dtype)


def test_haar_round_trip_and_orthonormal():
  x = _images(jax.random.key(0))
  y = models.dwt(x)
  assert y.shape == (2, 4, 6, 12)
  assert float(jnp.max(jnp.abs(models.iwt(y) - x))) <= 1e-6
  np.testing.assert_allclose(float(jnp.sum(y ** 2)), float(jnp.sum(x ** 2)), rtol=1e-5)   # Energy kept.
  # LL is the 2x2 block mean times 2 (orthonormal scaling), band-major: colour c's LL is channel c.
  np.testing.assert_allclose(models.low_band(y)[0, 0, 0], 2.0 * jnp.mean(x[0, :2, :2], axis=(0, 1)), rtol=1e-5)


def _random_params(params, key, dtype, scale=0.1):
  """Every weight random and non-zero (the zero-initialised last convs too), of `dtype`."""
  leaves, treedef = jax.tree.flatten(params)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [scale * jax.random.normal(k, x.shape, dtype) for k, x in zip(keys, leaves)])


def test_network_round_trip_float64():
  with jax.enable_x64(True):
    net = models.InvertibleHider(12, 12, blocks=3, growth=4, clamp=2.0)
    x1, x2 = (models.dwt(_images(jax.random.key(i), dtype=jnp.float64)) for i in (1, 2))
    params = _random_params(net.init(jax.random.key(3), x1, x2), jax.random.key(4), jnp.float64)
    assert all(x.dtype == jnp.float64 for x in jax.tree.leaves(params))
    y1, y2 = jax.jit(net.apply)(params, x1, x2)
    assert float(jnp.max(jnp.abs(y1 - x1))) > 1e-3 and float(jnp.max(jnp.abs(y2 - x2))) > 1e-3   # Not identity.
    r1, r2 = jax.jit(lambda p, a, b: net.apply(p, a, b, method=models.InvertibleHider.inverse))(params, y1, y2)
    assert float(jnp.max(jnp.abs(r1 - x1))) <= 1e-10
    assert float(jnp.max(jnp.abs(r2 - x2))) <= 1e-10


@pytest.fixture(scope="module")
def tiny():
  config = invertible_embedded.get_config("tiny")
  net = task.network(config, zero_init=False)
  cover, secret = _images(jax.random.key(5), h=16, w=16), _images(jax.random.key(6), h=16, w=16)
  params = net.init(jax.random.key(7), models.dwt(cover), models.dwt(secret))
  return config, net, params, cover, secret


def test_reveal_with_the_discarded_half_gives_the_secret(tiny):
  config, net, params, cover, secret = tiny
  container, _, r = task.hide(net, params, cover, secret)
  assert float(jnp.mean(metrics.psnr(cover, container))) < 60.0   # Random weights: the container did change.
  exact = task.reveal(net, params, container, r)
  assert float(jnp.min(metrics.psnr(secret, exact))) >= 100.0
  guessed = task.reveal(net, params, container, task.noise(config, None, r.shape))
  assert float(jnp.mean(metrics.psnr(secret, guessed))) < 60.0   # z is not r: this net has not learned.


def test_jit_equals_no_jit(tiny):
  _, net, params, cover, secret = tiny
  eager = task.hide(net, params, cover, secret)[0]
  jitted = jax.jit(lambda p, c, s: task.hide(net, p, c, s)[0])(params, cover, secret)
  np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), atol=1e-6)
  z = jnp.zeros(models.dwt(cover).shape)
  eager_r = task.reveal(net, params, eager, z)
  jitted_r = jax.jit(lambda p, x, z: task.reveal(net, p, x, z))(params, eager, z)
  np.testing.assert_allclose(np.asarray(jitted_r), np.asarray(eager_r), atol=1e-5)


def test_pris_rounding_rounds_forward_with_a_cosine_gradient():
  x = jnp.array([0.1, (10 + 0.5) / 255.0, 20.0 / 255.0])
  np.testing.assert_allclose(task.pris_round_8bit(x), metrics.quantize_8bit(x))
  grad = jax.grad(lambda v: jnp.sum(task.pris_round_8bit(v)))(x)
  np.testing.assert_allclose(grad[1:], [np.pi / 2, 0.0], atol=1e-3)   # Half-way: π/2; on a level: 0.


def test_bad_options_are_config_errors():
  config = invertible_embedded.get_config("tiny")
  with config.unlocked():
    config.model.reveal_z = "uniform"
  with pytest.raises(errors.ConfigError, match="reveal_z"):
    task.train_dataset(config)


@pytest.mark.parametrize("name", ["invertible_embedded", "invertible_imagenet224"])
def test_tiny_configs_train(name, trained_tiny):
  config, workdir, means = trained_tiny(name)
  assert config.task == "invertible" and config.num_train_steps <= 10
  expected = {"container_psnr", "container_psnr_y", "secret_psnr", "secret_psnr_y", "secret_psnr_float",
              "rounding_gap_db"}
  assert expected <= set(means) and all(np.isfinite(v) for v in means.values())
  assert os.path.exists(os.path.join(workdir, "eval", str(config.num_train_steps), "grid.png"))


def test_cli_hide_reveal(trained_tiny, tmp_path, capsys):
  """Through ImageHider alone: an odd-sized cover is padded to even sides and cropped back."""
  _, workdir, _ = trained_tiny("invertible_embedded")
  assert isinstance(task, tasks.ImageHider)
  from skimage import data  # pylint: disable=g-import-not-at-top
  cover, secret = tmp_path / "cover.png", tmp_path / "secret.png"
  Image.fromarray(np.ascontiguousarray(data.astronaut()[:33, :46])).save(cover)
  Image.fromarray(np.ascontiguousarray(data.coffee()[:33, :46])).save(secret)
  stego, revealed = tmp_path / "stego.png", tmp_path / "revealed.png"
  assert cli.main(["hide", "--workdir", workdir, "--cover", str(cover), "--secret", str(secret),
                   "--out", str(stego)]) == 0, capsys.readouterr().err
  assert cli.main(["reveal", "--workdir", workdir, "--stego", str(stego), "--out", str(revealed)]) == 0
  for path in (stego, revealed):
    with Image.open(path) as im:
      assert im.size == (46, 33) and im.mode == "RGB"
  # Revealing is deterministic (one fixed z): twice gives the same file.
  again = tmp_path / "again.png"
  assert cli.main(["reveal", "--workdir", workdir, "--stego", str(stego), "--out", str(again)]) == 0
  np.testing.assert_array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(revealed)))
