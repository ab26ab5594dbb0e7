"""The differentiable JPEG codec and the roundings that the training channel's layers share: a float image
through libjpeg-turbo's pipeline (JFIF YCbCr, 4:2:0 chroma with libjpeg's triangular upsampling, level shift,
orthonormal 8x8 DCT as matrix products, the IJG tables scaled as libjpeg scales them, coefficient rounding,
dequantisation, IDCT, 8 bits), and HiDDeN's JPEG-Mask. Every step is a reshape, matrix product or elementwise
operation over H, W and C, so it jits and shards over the batch. The layers that use it are in
`jaxsteg.attacks.differentiable` (`jpeg:Q`, `jpegmask`), whose docstring says why we write our own.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

HIGHEST = jax.lax.Precision.HIGHEST


# --- Roundings ------------------------------------------------------------------------------------------------

def round_ste(x: jax.Array) -> jax.Array:
  """Rounds to the nearest integer forward; the gradient is the identity (straight-through)."""
  return x + jax.lax.stop_gradient(jnp.round(x) - x)


def round_cubic(x: jax.Array) -> jax.Array:
  """Shin & Song's rounding approximation round(x) + (x - round(x))^3 (gradient 3 (x - round(x))^2)."""
  r = jax.lax.stop_gradient(jnp.round(x))
  return r + (x - r) ** 3


def round8(x: jax.Array) -> jax.Array:
  """Images in [0, 1] -> 8 bits: clipped (true gradient), then rounded straight-through to k/255."""
  return round_ste(jnp.clip(x, 0.0, 1.0) * 255.0) / 255.0


def rounder(rounding: str) -> Callable[[jax.Array], jax.Array]:
  return {"ste": round_ste, "cubic": round_cubic}[rounding]


# --- JPEG parts -----------------------------------------------------------------------------------------------

# The IJG standard tables (ITU-T T.81 Annex K), natural (row-major) order.
LUMINANCE_TABLE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.int64).reshape(8, 8)
CHROMINANCE_TABLE = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32, np.int64).reshape(8, 8)


def quality_scale(quality: int) -> int:
  """libjpeg's jpeg_quality_scaling: the percentage the standard tables are scaled by."""
  quality = min(max(int(quality), 1), 100)
  return 5000 // quality if quality < 50 else 200 - 2 * quality


def quantization_tables(quality: int) -> tuple[np.ndarray, np.ndarray]:
  """(luminance, chrominance) (8, 8) tables at `quality`, as libjpeg's jpeg_set_quality(force_baseline) builds."""
  scale = quality_scale(quality)
  return tuple(np.clip((t * scale + 50) // 100, 1, 255).astype(np.float32)
               for t in (LUMINANCE_TABLE, CHROMINANCE_TABLE))


def dct_matrix(n: int = 8) -> np.ndarray:
  """The orthonormal DCT-II matrix D (n, n): coefficients of a block X are D X D^T (JPEG's normalisation)."""
  k, i = np.arange(n)[:, None], np.arange(n)[None, :]
  d = np.cos((2 * i + 1) * k * np.pi / (2 * n)) * np.sqrt(2.0 / n)
  d[0] /= np.sqrt(2.0)
  return d.astype(np.float32)


_DCT = dct_matrix()


def zigzag(n: int = 8) -> list[tuple[int, int]]:
  """The JPEG zig-zag order of an n x n block as (row, column) pairs."""
  cells = [(i, j) for i in range(n) for j in range(n)]
  return sorted(cells, key=lambda c: (c[0] + c[1], c[0] if (c[0] + c[1]) % 2 else -c[0]))


def zigzag_mask(keep: int) -> np.ndarray:
  """(8, 8) float mask, 1 on the first `keep` zig-zag coefficients."""
  mask = np.zeros((8, 8), np.float32)
  for i, j in zigzag()[:keep]:
    mask[i, j] = 1.0
  return mask


def block_dct(plane: jax.Array) -> jax.Array:
  """(N, H, W), H and W multiples of 8 -> coefficients (N, H/8, 8, W/8, 8): [n, block row, u, block col, v]."""
  n, h, w = plane.shape
  blocks = plane.reshape(n, h // 8, 8, w // 8, 8)
  return jnp.einsum("uy,niyjx,vx->niujv", _DCT, blocks, _DCT, precision=HIGHEST)


def block_idct(coefficients: jax.Array) -> jax.Array:
  """Inverse of `block_dct`: (N, H/8, 8, W/8, 8) -> (N, H, W)."""
  n, bh, _, bw, _ = coefficients.shape
  blocks = jnp.einsum("uy,niujv,vx->niyjx", _DCT, coefficients, _DCT, precision=HIGHEST)
  return blocks.reshape(n, bh * 8, bw * 8)


def rgb_to_ycbcr(rgb: jax.Array) -> jax.Array:
  """JFIF RGB -> YCbCr on the 0..255 scale (..., 3) -> (..., 3), chroma centred at 128 (libjpeg's jccolor)."""
  r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
  y = 0.299 * r + 0.587 * g + 0.114 * b
  cb = -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128.0
  cr = 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128.0
  return jnp.stack([y, cb, cr], axis=-1)


def ycbcr_to_rgb(ycc: jax.Array) -> jax.Array:
  """Inverse of `rgb_to_ycbcr` (libjpeg's jdcolor), 0..255 scale, not clipped."""
  y, cb, cr = ycc[..., 0], ycc[..., 1] - 128.0, ycc[..., 2] - 128.0
  return jnp.stack([y + 1.402 * cr, y - 0.344136286 * cb - 0.714136286 * cr, y + 1.772 * cb], axis=-1)


def downsample2(plane: jax.Array) -> jax.Array:
  """2x2 box average (libjpeg's h2v2_downsample): (N, H, W) -> (N, H/2, W/2)."""
  n, h, w = plane.shape
  return plane.reshape(n, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def _upsample_axis(x: jax.Array, axis: int) -> jax.Array:
  """Triangular 2x upsampling along `axis`: out[2i] = 3/4 x[i] + 1/4 x[i-1], out[2i+1] = 3/4 x[i] + 1/4 x[i+1],
  edges replicated."""
  size = x.shape[axis]
  first, last = jax.lax.slice_in_dim(x, 0, 1, axis=axis), jax.lax.slice_in_dim(x, size - 1, size, axis=axis)
  before = jnp.concatenate([first, jax.lax.slice_in_dim(x, 0, size - 1, axis=axis)], axis=axis)
  after = jnp.concatenate([jax.lax.slice_in_dim(x, 1, size, axis=axis), last], axis=axis)
  pair = jnp.stack([0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after], axis=axis + 1)
  shape = list(x.shape)
  shape[axis] *= 2
  return pair.reshape(shape)


def upsample2(plane: jax.Array) -> jax.Array:
  """libjpeg-turbo's default ("fancy", h2v2_fancy_upsample) chroma upsampling: (N, h, w) -> (N, 2h, 2w)."""
  return _upsample_axis(_upsample_axis(plane, 1), 2)


def pad_to(images: jax.Array, multiple: int) -> jax.Array:
  h, w = images.shape[1:3]
  ph, pw = -h % multiple, -w % multiple
  if not ph and not pw:
    return images
  return jnp.pad(images, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")


def jpeg_plane(plane: jax.Array, table: np.ndarray, rounding: str) -> jax.Array:
  """One 0..255 plane through level shift, DCT, quantisation, rounding, dequantisation, IDCT; integer, 0..255."""
  q = jnp.asarray(table).reshape(1, 1, 8, 1, 8)
  coefficients = rounder(rounding)(block_dct(plane - 128.0) / q) * q
  return round_ste(jnp.clip(block_idct(coefficients) + 128.0, 0.0, 255.0))


def jpeg_codec(images: jax.Array, quality: int, rounding: str = "ste") -> jax.Array:
  """Differentiable JPEG of float images (N, H, W, C) in [0, 1], C = 1 or 3 (see the module docstring)."""
  h, w, channels = images.shape[1:]
  if channels not in (1, 3):
    raise ValueError(f"JPEG needs grey (C = 1) or RGB (C = 3) images, got C = {channels}")
  luminance, chrominance = quantization_tables(quality)
  x = pad_to(images, 16) * 255.0
  if channels == 1:
    out = jpeg_plane(round_ste(x[..., 0]), luminance, rounding)[..., None]
  else:
    ycc = round_ste(rgb_to_ycbcr(x))
    y = jpeg_plane(ycc[..., 0], luminance, rounding)
    cb, cr = (round_ste(upsample2(jpeg_plane(round_ste(downsample2(ycc[..., c])), chrominance, rounding)))
              for c in (1, 2))
    out = ycbcr_to_rgb(jnp.stack([y, cb, cr], axis=-1))
  return round8(out[:, :h, :w] / 255.0)


def jpeg_mask(images: jax.Array, keep: tuple[int, int, int] = (25, 9, 9)) -> jax.Array:
  """HiDDeN's JPEG-Mask (YCbCr 4:4:4, keep the first `keep` zig-zag coefficients of Y, Cb, Cr), in [0, 1]."""
  h, w, channels = images.shape[1:]
  if channels not in (1, 3):
    raise ValueError(f"JPEG-Mask needs grey (C = 1) or RGB (C = 3) images, got C = {channels}")
  x = pad_to(images, 8) * 255.0
  planes = [x[..., 0]] if channels == 1 else list(jnp.moveaxis(rgb_to_ycbcr(x), -1, 0))
  kept = [block_idct(block_dct(p - 128.0) * zigzag_mask(k).reshape(1, 1, 8, 1, 8)) + 128.0
          for p, k in zip(planes, keep)]
  out = kept[0][..., None] if channels == 1 else ycbcr_to_rgb(jnp.stack(kept, axis=-1))
  return jnp.clip(out[:, :h, :w] / 255.0, 0.0, 1.0)
