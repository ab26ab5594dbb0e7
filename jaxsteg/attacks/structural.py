"""Structural attacks on LSB replacement: estimators of the embedding rate p (bits per pixel) of one uint8 image.

LSB replacement only ever swaps a value with its LSB partner (2k <-> 2k+1), which breaks a symmetry natural
images have; these classical estimators measure how much. They are quantitative (they return p, not a label)
and need no training, so they are the first thing any hiding method should be checked against. They say little
about LSB matching or adaptive embedding (HILL), which do not have the asymmetry.

  spa  Sample pairs analysis (Dumitrescu, Wu, Wang, "Detection of LSB steganography via sample pair analysis",
       IEEE Trans. Signal Processing 51(7), 2003): with the sets X, Y, Z, W of adjacent pairs (u, v) (X: v even
       and u < v, or v odd and u > v; Y the reverse; Z: u = v; W: u ≠ v in the same LSB pair), p is the smaller
       root of (|W| + |Z|)/2 · p² + (2|X| − |P|) p + |Y| − |X| = 0.
  rs   RS analysis (Fridrich, Goljan, Du, "Detecting LSB steganography in color and gray-scale images", IEEE
       Multimedia 8(4), 2001; ACM MM&Sec 2001) with the standard mask [0, 1, 1, 0] on disjoint groups of 4
       pixels: the regular/singular fractions R_M, S_M, R_-M, S_-M of the image and of the image with all LSBs
       flipped give 2(d1 + d0)x² + (d-0 − d-1 − d1 − 3d0)x + d0 − d-0 = 0; with x the root of smaller modulus,
       p = x / (x − 1/2). The discrimination function is Σ|g_{i+1} − g_i|; F_-1 may leave 0..255 (−1, 256),
       which only enters that sum.
  ws   Weighted stego analysis (Fridrich & Goljan, SPIE 5306, 2004) as revisited by Ker & Böhme (SPIE 6819, 2008):
       change rate β = Σ w_i (s_i − ŝ_i)(s_i − s̄_i) over interior pixels, s̄ the LSB-flipped image, ŝ the
       standard predictor (the KB kernel [[-1, 2, -1], [2, 0, 2], [-1, 2, -1]] / 4), moderated weights
       w ∝ 1 / (5 + local 3×3 variance), normalised to sum 1; p = 2β. Ker & Böhme's bias correction
       (β̂ ← β̂ − β̂ Σ w_i (s_i − s̄_i) ŝ(s̄ − s)_i, the predictor's own stego noise) is optional and off by default,
       as in the DDE reference code.

Pairs and groups are horizontal and vertical (both scan directions pooled). Colour (H, W, C): SPA and RS pool the
counts of all channels into one equation (one estimate from C times the statistics); WS estimates each channel
and averages the estimates. Estimates are returned raw (a cover may give a small negative value), so they also
serve as detection scores; a complex pair of roots (noise) gives SPA its real part. RS is degenerate at p = 1
(the cover's root x = −p / (2(1 − p)) runs off to infinity and its quadratic's coefficients vanish): its p is
taken from the complex root when there is one and capped at 1. Measured on 128×128 crops of the training
photographs (6 crops, 8 seeds), the mean estimate is within 0.07 of the true rate at 0, 0.4 and 1.0 bpp for each
attack; the held-out photographs have a larger cover bias (up to 0.16 for SPA and RS on 6 crops).
All in numpy; sealwatch (uibk-uncover) implements SPA and WS too, but imports torch at import time, so it is not
a dependency.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from jaxsteg import errors

RS_MASK = (0, 1, 1, 0)


def _channels(image: np.ndarray) -> np.ndarray:
  """(C, H, W) int64 channels of a uint8 (H, W) or (H, W, C) image."""
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim not in (2, 3):
    raise ValueError(f"structural attacks take one uint8 image (H, W) or (H, W, C), got {image.dtype} "
                     f"{image.shape}")
  planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
  if min(planes.shape[1:]) < 4:
    raise ValueError(f"image {image.shape} is too small for a structural attack (at least 4×4)")
  return planes.astype(np.int64)


def _roots(a: float, b: float, c: float) -> tuple[complex, complex]:
  """The two roots of a x² + b x + c (complex where the discriminant is negative; one root twice if a = 0)."""
  if abs(a) < 1e-12:
    root = -c / b if b else 0.0
    return complex(root), complex(root)
  sqrt_disc = np.sqrt(complex(b * b - 4 * a * c))
  return (-b - sqrt_disc) / (2 * a), (-b + sqrt_disc) / (2 * a)


def _adjacent_pairs(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(u, v) of every horizontally and vertically adjacent pair of pixels, flattened over channels."""
  u = np.concatenate([planes[:, :, :-1].ravel(), planes[:, :-1, :].ravel()])
  v = np.concatenate([planes[:, :, 1:].ravel(), planes[:, 1:, :].ravel()])
  return u, v


def spa(image: np.ndarray) -> float:
  """Sample pairs analysis: the estimated LSB replacement rate p (bits per pixel) of `image`."""
  u, v = _adjacent_pairs(_channels(image))
  even = v % 2 == 0
  x = np.count_nonzero((even & (u < v)) | (~even & (u > v)))
  y = np.count_nonzero((even & (u > v)) | (~even & (u < v)))
  z = np.count_nonzero(u == v)
  w = np.count_nonzero(((u >> 1) == (v >> 1)) & (u != v))
  return float(min(r.real for r in _roots((w + z) / 2.0, 2.0 * x - u.size, float(y - x))))


def _groups(planes: np.ndarray, size: int) -> np.ndarray:
  """Disjoint groups of `size` consecutive pixels along rows and along columns: (G, size)."""
  rows = planes[:, :, :planes.shape[2] // size * size].reshape(-1, size)
  cols = np.swapaxes(planes, 1, 2)
  cols = cols[:, :, :cols.shape[2] // size * size].reshape(-1, size)
  return np.concatenate([rows, cols])


def _regular_minus_singular(groups: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
  """(R_M − S_M, R_-M − S_-M) of the groups: fractions whose discrimination rises / falls under F_M, F_-M."""
  def discrimination(g):
    return np.abs(np.diff(g, axis=1)).sum(axis=1)

  f0 = discrimination(groups)
  flip = np.where(mask, groups ^ 1, groups)                     # F_1: 2k <-> 2k+1.
  shifted = np.where(mask, ((groups + 1) ^ 1) - 1, groups)      # F_-1: 2k-1 <-> 2k.
  f1, fm1 = discrimination(flip), discrimination(shifted)
  return float(np.mean(f1 > f0) - np.mean(f1 < f0)), float(np.mean(fm1 > f0) - np.mean(fm1 < f0))


def rs(image: np.ndarray, mask=RS_MASK) -> float:
  """RS analysis with `mask` (default [0, 1, 1, 0]): the estimated LSB replacement rate p of `image`."""
  planes = _channels(image)
  mask = np.asarray(mask, bool)[None, :]
  d0, dm0 = _regular_minus_singular(_groups(planes, mask.size), mask)
  d1, dm1 = _regular_minus_singular(_groups(planes ^ 1, mask.size), mask)
  x = min(_roots(2.0 * (d1 + d0), dm0 - dm1 - d1 - 3.0 * d0, d0 - dm0), key=abs)
  # Near p = 1 the cover's root runs off to infinity (x = -p / (2 (1 - p))) and noise decides the rest: a complex
  # pair or a root beyond 1/2 both mean p close to 1, so p is taken from the complex root and capped at 1.
  return float(min(1.0, (x / (x - 0.5)).real)) if x != 0.5 else 1.0


def _kb_predict(plane: np.ndarray) -> np.ndarray:
  """The KB predictor of each interior pixel from its 8 neighbours: (H-2, W-2)."""
  return (2.0 * (plane[:-2, 1:-1] + plane[2:, 1:-1] + plane[1:-1, :-2] + plane[1:-1, 2:])
          - (plane[:-2, :-2] + plane[:-2, 2:] + plane[2:, :-2] + plane[2:, 2:])) / 4.0


def _local_variance(plane: np.ndarray) -> np.ndarray:
  """Variance of the 3×3 window around each interior pixel: (H-2, W-2)."""
  h, w = plane.shape
  windows = np.stack([plane[i:h - 2 + i, j:w - 2 + j] for i in range(3) for j in range(3)])
  return windows.var(axis=0)


def ws(image: np.ndarray, bias_correction: bool = False) -> float:
  """Weighted stego analysis (moderated weights, KB predictor): the estimated LSB replacement rate p."""
  estimates = []
  for plane in _channels(image).astype(np.float64):
    flipped = plane + 1 - 2 * (plane % 2)
    weights = 1.0 / (5.0 + _local_variance(plane))
    weights /= weights.sum()
    inner, inner_flipped = plane[1:-1, 1:-1], flipped[1:-1, 1:-1]
    beta = float(np.sum(weights * (inner - _kb_predict(plane)) * (inner - inner_flipped)))
    if bias_correction:
      beta -= beta * float(np.sum(weights * (inner - inner_flipped) * _kb_predict(flipped - plane)))
    estimates.append(2.0 * beta)
  return float(np.mean(estimates))


ATTACKS: dict[str, Callable[[np.ndarray], float]] = {"spa": spa, "rs": rs, "ws": ws}


def estimate(name: str, images: np.ndarray) -> np.ndarray:
  """The estimates of attack `name` ('spa', 'rs', 'ws') for each of the uint8 images (N, H, W[, C]): (N,)."""
  if name not in ATTACKS:
    raise errors.ConfigError(f"unknown structural attack {name!r}; use one of {', '.join(ATTACKS)}")
  return np.asarray([ATTACKS[name](image) for image in np.asarray(images)], np.float64)
