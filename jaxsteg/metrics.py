"""Image-quality metrics, per image (leading batch axis kept) so that callers average over real images only.

Conventions (methods spec §0): images in [0, 1]; PSNR with MAX = 1 on the given values (pass 8-bit rounded
containers); SSIM = Wang et al. 2004 with dm_pix defaults (11×11 Gaussian σ 1.5, K1 0.01, K2 0.03), per channel
then mean; APD = mean absolute pixel error on the 0–255 scale.
"""

from __future__ import annotations

import dm_pix
import jax.numpy as jnp


def quantize_8bit(x: jnp.ndarray) -> jnp.ndarray:
  """What a PNG stores: clip to [0, 1], round to the nearest of 256 levels, back to [0, 1]."""
  return jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0) / 255.0


def mse_per_image(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  return jnp.mean(jnp.square(a - b), axis=tuple(range(1, a.ndim)))


def psnr(a: jnp.ndarray, b: jnp.ndarray, max_value: float = 1.0) -> jnp.ndarray:
  """Per-image PSNR in dB; capped at 100 dB for identical images so averages stay finite."""
  m = mse_per_image(a, b)
  return jnp.minimum(10.0 * jnp.log10(max_value**2 / jnp.maximum(m, 1e-10)), 100.0)


def ssim(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """Per-image SSIM of (B, H, W, C) images in [0, 1]."""
  return dm_pix.ssim(a, b, max_val=1.0)


def apd(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """Per-image average absolute pixel difference on the 0–255 scale."""
  return 255.0 * jnp.mean(jnp.abs(a - b), axis=tuple(range(1, a.ndim)))


def rgb_to_y(x: jnp.ndarray) -> jnp.ndarray:
  """ITU-R BT.601 luma in [0, 1] (the Y channel HiNet-style papers report PSNR on)."""
  y = 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]
  return (y / 255.0)[..., None]


def masked_mean(values: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
  return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)
