"""Classical embedders, the calibration baselines of steganalysis: what a working detector must find.

`embed(method, covers, rate, seed)` simulates embedding a random message at `rate` bits per pixel (relative
payload per colour channel) in uint8 covers (N, H, W, C) and returns the stego images:
  lsbr  LSB replacement: a random `rate` fraction of the pixels get a random least significant bit (half of
        them change)
"""

from __future__ import annotations

import numpy as np

from jaxsteg import errors


def lsb_replacement(covers: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
  covers = np.asarray(covers, np.uint8)
  chosen = rng.random(covers.shape) < rate
  bits = rng.integers(0, 2, covers.shape, dtype=np.uint8)
  return np.where(chosen, (covers & 0xFE) | bits, covers).astype(np.uint8)


def embed(method: str, covers: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  if method == "lsbr":
    return lsb_replacement(covers, rate, rng)
  raise errors.ConfigError(f"unknown classical embedder {method!r}")
