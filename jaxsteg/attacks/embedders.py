"""Classical embedders, the calibration baselines of steganalysis: what a working detector must find.

`embed(method, covers, rate, seed)` simulates embedding a random message at `rate` bits per pixel (relative
payload of each colour channel: `rate` bits per 8-bit channel value) in uint8 covers (N, H, W, C) and returns
the stego images, uint8 of the same shape. Every method runs on each colour channel of each image separately,
as a grey image, through `conseal` (Benes, Lorch et al., University of Innsbruck; MPL-2.0), the maintained
Python library of the DDE Lab's simulators; "simulated" means the changes are drawn with the probabilities an
optimal code of that payload would make, without coding a real message (the standard practice in steganalysis):

  lsbr  LSB replacement (`conseal.lsb.simulate`, LSB_REPLACEMENT): a `rate` fraction of the values carry a
        message bit in their least significant bit, so each changes with probability rate/2 (to its LSB
        partner: 2k <-> 2k+1). The asymmetry that SPA, RS and WS exploit.
  lsbm  LSB matching, ±1 embedding (`conseal.lsb.simulate`, LSB_MATCHING): the same rate/2 changes, each +1 or
        -1 at random (+1 at 0 and -1 at 255), so the LSB pairs' structure is gone.
  hill  HILL (Li, Wang, Huang, Li, "A new cost function for spatial image steganography", ICIP 2014) through
        `conseal.hill.simulate_single_channel`: HILL's costs (KB high-pass, 3×3 and 15×15 averaging) and the
        ternary payload-limited simulator (the changes minimise the expected cost for `rate` bits per value),
        so changes concentrate in textured regions.

The seed of each (image, channel) is drawn from `numpy.random.default_rng(seed)` in order, so image i's stego
depends only on the seed, i and its cover. conseal is imported on first use (numba makes it ≈ 3 s).
"""

from __future__ import annotations

import numpy as np

from jaxsteg import errors

METHODS = ("lsbr", "lsbm", "hill")


def _simulate_channel(method: str, channel: np.ndarray, rate: float, seed: int) -> np.ndarray:
  import conseal  # pylint: disable=g-import-not-at-top
  if method == "hill":
    return conseal.hill.simulate_single_channel(channel, rate, seed=seed)
  modify = conseal.LSB_REPLACEMENT if method == "lsbr" else conseal.LSB_MATCHING
  return conseal.lsb.simulate(channel, rate, modify=modify, seed=seed)


def embed(method: str, covers: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
  """Stego images (N, H, W, C) uint8 of `method` ('lsbr', 'lsbm', 'hill') at `rate` bits per channel value."""
  if method not in METHODS:
    raise errors.ConfigError(f"unknown classical embedder {method!r}; use one of {', '.join(METHODS)}")
  covers = np.asarray(covers)
  if covers.dtype != np.uint8 or covers.ndim != 4:
    raise ValueError(f"embedders take uint8 covers (N, H, W, C), got {covers.dtype} {covers.shape}")
  if not 0.0 <= rate <= 1.0:
    raise errors.ConfigError(f"embedding rate must be in [0, 1] bits per pixel, got {rate}")
  n, _, _, c = covers.shape
  seeds = np.random.default_rng(seed).integers(0, 2 ** 31 - 1, (n, c))
  out = covers.copy()
  if rate == 0.0:
    return out
  for i in range(n):
    for k in range(c):
      channel = np.ascontiguousarray(covers[i, :, :, k])
      stego = _simulate_channel(method, channel, float(rate), int(seeds[i, k]))
      assert stego.dtype == np.uint8 and stego.shape == channel.shape, (method, stego.dtype, stego.shape)
      out[i, :, :, k] = stego
  return out
