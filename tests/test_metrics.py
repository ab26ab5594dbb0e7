"""Metrics against hand-computed values."""

import jax.numpy as jnp
import numpy as np

from jaxsteg import metrics


def test_quantize_8bit():
  x = jnp.array([-0.2, 0.0, 0.5, 0.99, 1.3, 100.4 / 255, 100.6 / 255])
  q = np.asarray(metrics.quantize_8bit(x)) * 255
  np.testing.assert_allclose(q, [0, 0, 128, 252, 255, 100, 101], atol=1e-4)


def test_psnr_per_image():
  a = jnp.zeros((2, 4, 4, 3))
  b = a.at[0].set(0.1).at[1].set(0.01)
  # MSE 0.01 -> 20 dB; MSE 1e-4 -> 40 dB.
  np.testing.assert_allclose(metrics.psnr(a, b), [20.0, 40.0], rtol=1e-5)
  assert float(metrics.psnr(a, a)[0]) == 100.0


def test_apd_scale():
  a = jnp.zeros((1, 2, 2, 3))
  b = a + 3.0 / 255.0
  np.testing.assert_allclose(metrics.apd(a, b), [3.0], rtol=1e-5)


def test_ssim_identity_and_drop():
  rng = np.random.default_rng(0)
  a = jnp.asarray(rng.random((2, 32, 32, 3)), jnp.float32)
  np.testing.assert_allclose(metrics.ssim(a, a), [1.0, 1.0], atol=1e-5)
  noisy = jnp.clip(a + 0.3 * jnp.asarray(rng.standard_normal(a.shape)), 0, 1)
  assert float(metrics.ssim(a, noisy).max()) < 0.9


def test_y_channel():
  white = jnp.ones((1, 1, 1, 3))
  np.testing.assert_allclose(metrics.rgb_to_y(white)[..., 0], [[[235 / 255]]], rtol=1e-4)


def test_masked_mean():
  np.testing.assert_allclose(metrics.masked_mean(jnp.array([1.0, 3.0, 100.0]), jnp.array([1.0, 1.0, 0.0])), 2.0)
