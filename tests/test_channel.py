"""The training channel (`config.noise`): off by default, clean then ramped in, differentiable, checked early."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from skimage import data

from configs import common
from jaxsteg import errors
from jaxsteg.attacks import channel
from jaxsteg.attacks import differentiable


def _config(layers=(), **kw):
  return ml_collections.ConfigDict({"noise": common.noise_block(layers, **kw)})


@pytest.fixture(scope="module")
def images():
  x = np.stack([data.astronaut()[100:132, 200:232], data.chelsea()[50:82, 100:132]]).astype(np.float32) / 255.0
  return jnp.asarray(x)


def test_off_by_default_and_in_every_hiding_base_config():
  assert not channel.enabled(_config())
  assert not channel.enabled(ml_collections.ConfigDict())
  for name in ("deepstego_embedded", "keymixer_embedded", "bits_embedded", "invertible_embedded"):
    config = __import__(f"configs.{name}", fromlist=["get_config"]).get_config()
    assert "noise" in config and not channel.enabled(config), name
  assert channel.enabled(_config(("jpeg:90",)))


def test_strength_is_zero_while_clean_then_ramps_to_the_probability():
  config = _config(("jpeg:90",), clean_steps=100, ramp_steps=200, probability=0.8)
  got = [float(channel.strength_at(config, s)) for s in (0, 99, 100, 200, 300, 10_000)]
  np.testing.assert_allclose(got, [0.0, 0.0, 0.0, 0.4, 0.8, 0.8], atol=1e-6)
  assert float(channel.strength_at(_config(("jpeg:90",), clean_steps=5), 4)) == 0.0
  assert float(channel.strength_at(_config(("jpeg:90",), clean_steps=5), 5)) == 1.0


def test_clean_steps_see_the_8bit_container_and_later_ones_the_layer(images):
  config = _config(("jpeg:50",), clean_steps=10)
  key = jax.random.key(0)
  clean = channel.apply(config, images, images, key, 0)
  np.testing.assert_allclose(np.asarray(clean), np.round(np.clip(np.asarray(images), 0, 1) * 255) / 255, atol=1e-6)
  distorted = channel.apply(config, images, images, key, 10)
  np.testing.assert_allclose(np.asarray(distorted), np.asarray(differentiable.get("jpeg:50")(clean)), atol=1e-6)
  assert float(jnp.max(jnp.abs(distorted - clean))) > 2 / 255   # JPEG at quality 50 changed the image.


def test_the_channel_jits_and_passes_a_gradient_to_the_container(images):
  config = _config(("jpeg:75", "noise:2", "resize:0.5"), mode="one_of")
  weights = jax.random.uniform(jax.random.key(3), images.shape)
  fn = jax.jit(lambda x, k, s: jnp.sum(channel.apply(config, x, images, k, s) * weights))
  grad = jax.grad(fn)(images, jax.random.key(1), 5)
  assert np.isfinite(np.asarray(grad)).all() and float(jnp.linalg.norm(grad)) > 0
  outs = {np.asarray(jax.jit(lambda k: channel.apply(config, images, images, k, 5))(jax.random.key(i))).tobytes()
          for i in range(6)}
  assert len(outs) >= 2   # Different keys draw different layers (or noise).
  seq = _config(("jpeg:90", "blur:1"), mode="all")
  out = channel.apply(seq, images, images, jax.random.key(0), 0)
  assert out.shape == images.shape


@pytest.mark.parametrize("block, message", [
    ({"layers": ("jpeg:900",)}, "quality"),
    ({"layers": ("gzip:3",)}, "unknown differentiable distortion"),
    ({"layers": ("jpeg:90",), "mode": "some"}, "noise.mode"),
    ({"layers": ("jpeg:90",), "probability": 2.0}, "noise.probability"),
    ({"layers": ("jpeg:90",), "clean_steps": -1}, "noise.clean_steps"),
])
def test_a_malformed_block_is_a_config_error(block, message):
  config = ml_collections.ConfigDict({"noise": dict(common.noise_block(), **block)})
  with pytest.raises(errors.ConfigError, match=message):
    channel.check(config)
