"""Image-quality metrics, per image (leading batch axis kept) so that callers average over real images only.

Conventions (methods spec §0): images in [0, 1]; PSNR with MAX = 1 on the given values (pass 8-bit rounded
containers); SSIM = Wang et al. 2004 with dm_pix defaults (11×11 Gaussian σ 1.5, K1 0.01, K2 0.03), per channel
then mean; APD = mean absolute pixel error on the 0–255 scale.
"""

from __future__ import annotations

import dm_pix
import jax
import jax.numpy as jnp


def quantize_8bit(x: jnp.ndarray) -> jnp.ndarray:
  """What a PNG stores: clip to [0, 1], round to the nearest of 256 levels, back to [0, 1]."""
  return jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0) / 255.0


def straight_through_8bit(x: jnp.ndarray) -> jnp.ndarray:
  """The 8-bit rounded image in the forward pass, the identity's gradient in the backward pass."""
  return x + jax.lax.stop_gradient(quantize_8bit(x) - x)


def to_signed(u8: jnp.ndarray) -> jnp.ndarray:
  """uint8 pixels -> [-1, 1] floats (the range GAN generators work in)."""
  return u8.astype(jnp.float32) / 127.5 - 1.0


def to_unit(x: jnp.ndarray) -> jnp.ndarray:
  """[-1, 1] -> [0, 1]."""
  return (x + 1.0) * 0.5


def quantize_8bit_signed(x: jnp.ndarray) -> jnp.ndarray:
  """A [-1, 1] image as its 8-bit PNG would hold it."""
  return quantize_8bit(to_unit(x)) * 2.0 - 1.0


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


def centre_crop(img: jnp.ndarray, size: int) -> jnp.ndarray:
  """The centre size×size region of (B, H, W, C) images."""
  off_h, off_w = (img.shape[1] - size) // 2, (img.shape[2] - size) // 2
  return img[:, off_h:off_h + size, off_w:off_w + size]


def region_metrics(message: jnp.ndarray, decoded: jnp.ndarray, prefix: str = "msg") -> dict:
  """Per-image MSE, RMSE, PSNR, SSIM of a message region (both (B, m, m, C) in [0, 1]).

  [inf] Regions smaller than the 11×11 SSIM window get a window shrunk to the region.
  """
  mse = mse_per_image(message, decoded)
  size = message.shape[1]
  if size >= 11:
    s = ssim(message, decoded)
  else:
    s = dm_pix.ssim(message, decoded, max_val=1.0, filter_size=size)
  return {f"{prefix}_mse": mse, f"{prefix}_rmse": jnp.sqrt(mse), f"{prefix}_psnr": psnr(message, decoded),
          f"{prefix}_ssim": s}


def masked_mean(values: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
  return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)
