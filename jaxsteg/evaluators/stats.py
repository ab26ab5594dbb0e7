"""Statistics of cipher-like images (methods spec §0), pure numpy on uint8 images (H, W, C), per image.

Histogram χ² against the uniform distribution, a two-sample χ² between two histograms, Shannon entropy,
adjacent-pixel correlation (horizontal, vertical, diagonal, over random pairs from an explicit rng), NPCR and
UACI, PSNR of uint8 images. Used by the `security` evaluator; the ideal values are those of independent
uniform bytes.
"""

from __future__ import annotations

import math

import numpy as np

IDEAL_NPCR = 100.0 * 255.0 / 256.0      # 99.6094 %: P(two independent uniform bytes differ).
IDEAL_UACI = 100.0 * 257.0 / (3 * 256)  # 33.4635 %: E|X − Y| / 255 for independent uniform bytes.
IDEAL_ENTROPY = 8.0
CHI2_CRITICAL_255_05 = 293.2478         # χ²(255 dof) at the 5 % level: uniform histograms lie below it.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}


def _as_uint8(img: np.ndarray) -> np.ndarray:
  img = np.asarray(img)
  if img.dtype != np.uint8:
    raise TypeError(f"expected uint8 pixels, got {img.dtype}")
  return img if img.ndim == 3 else img[..., None]


def histograms(img: np.ndarray) -> np.ndarray:
  """(C, 256) counts of each 8-bit value per channel."""
  img = _as_uint8(img)
  return np.stack([np.bincount(img[..., c].ravel(), minlength=256) for c in range(img.shape[-1])])


def chi_square_uniform(img: np.ndarray) -> float:
  """Σ (o − e)² / e over 256 bins with e = HW/256, per channel, averaged over channels."""
  h = histograms(img).astype(np.float64)
  e = h.sum(axis=1, keepdims=True) / 256.0
  return float(np.mean(np.sum((h - e) ** 2 / e, axis=1)))


def chi_square_two_sample(a: np.ndarray, b: np.ndarray) -> float:
  """Σ (h_a − h_b)² / (h_a + h_b) over non-empty bins, per channel, averaged [inf: symmetric distance]."""
  ha, hb = histograms(a).astype(np.float64), histograms(b).astype(np.float64)
  s = ha + hb
  d = np.where(s > 0, (ha - hb) ** 2 / np.where(s > 0, s, 1.0), 0.0)
  return float(np.mean(np.sum(d, axis=1)))


def entropy(img: np.ndarray) -> float:
  """−Σ p(v) log2 p(v) over 256 bins, per channel, averaged over channels (bits; ideal 8)."""
  h = histograms(img).astype(np.float64)
  p = h / h.sum(axis=1, keepdims=True)
  logs = np.log2(np.where(p > 0, p, 1.0))
  return float(np.mean(-np.sum(p * logs, axis=1)))


def adjacent_pairs(img: np.ndarray, direction: str, num_pairs: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
  """`num_pairs` random (pixel, neighbour) values in `direction`, channel chosen at random: two float arrays."""
  img = _as_uint8(img)
  dy, dx = DIRECTIONS[direction]
  h, w, c = img.shape
  ys = rng.integers(0, h - dy, num_pairs)
  xs = rng.integers(0, w - dx, num_pairs)
  cs = rng.integers(0, c, num_pairs)
  return img[ys, xs, cs].astype(np.float64), img[ys + dy, xs + dx, cs].astype(np.float64)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
  """Pearson r; NaN when either side is constant (undefined)."""
  x, y = np.asarray(x, np.float64) - np.mean(x), np.asarray(y, np.float64) - np.mean(y)
  denom = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
  return float(np.sum(x * y) / denom) if denom > 0 else float("nan")


def magnitude_correlation(a: np.ndarray, b: np.ndarray) -> float:
  """Pearson r of |a − mean a| and |b − mean b| [inf]: catches a sign-scrambled copy (b = ±(a − m) + m), which
  has r(a, b) ≈ 0 yet shows the secret's edges and contrast."""
  a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
  return pearson(np.abs(a - a.mean()), np.abs(b - b.mean()))


def adjacent_correlation(img: np.ndarray, direction: str, num_pairs: int, rng: np.random.Generator) -> float:
  """Pearson r of `num_pairs` random neighbour pairs (spec §0: ≥ 3000) in `direction`."""
  return pearson(*adjacent_pairs(img, direction, num_pairs, rng))


def npcr(a: np.ndarray, b: np.ndarray) -> float:
  """100/(HWC) · Σ [a ≠ b] (percent)."""
  a, b = _as_uint8(a), _as_uint8(b)
  return float(100.0 * np.mean(a != b))


def uaci(a: np.ndarray, b: np.ndarray) -> float:
  """100/(HWC) · Σ |a − b| / 255 (percent)."""
  a, b = _as_uint8(a).astype(np.int32), _as_uint8(b).astype(np.int32)
  return float(100.0 * np.mean(np.abs(a - b)) / 255.0)


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
  """PSNR in dB of two uint8 images (MAX 255), capped at 100 dB for identical images (as jaxsteg.metrics)."""
  m = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
  return min(10.0 * math.log10(255.0**2 / max(m, 1e-10 * 255.0**2)), 100.0)


def change_one_pixel(img: np.ndarray) -> np.ndarray:
  """A copy with channel 0 of the centre pixel changed by one level (+1, or −1 at 255)."""
  out = _as_uint8(img).copy()
  y, x = out.shape[0] // 2, out.shape[1] // 2
  out[y, x, 0] = out[y, x, 0] + 1 if out[y, x, 0] < 255 else 254
  return out
