"""Dither modulation in JPEG's own 8×8 DCT: bits that survive a JPEG re-save at the quality they were laid out for.

Quantisation index modulation (Chen & Wornell 2001) on the luma DCT coefficients of every 8×8 block, aligned to
the grid and the quantisation table a JPEG encoder uses (libjpeg, JFIF YCbCr, blocks from the top-left corner):

  - slots: the `slots` (u, v) positions of a block with the smallest units, unit(u, v) = m·q(u, v), q the luma
    table at the design `quality` and m the smallest odd integer with m·q >= `min_unit`. A bit 1 puts the
    coefficient (of Y − 128, orthonormal DCT) on an odd multiple of the unit, a bit 0 on an even one. Every
    lattice point is a multiple of q, so a JPEG at the design quality rounds a coefficient that lies within
    q/2 of its point back onto it; odd m keeps JPEG's rounding cells inside the decision cells (with an even m
    a perturbed coefficient could be rounded onto a decision boundary).
  - embedding: each slot coefficient is moved into its bit's cell, no further than `margin` from the lattice
    point's decision boundary (distortion compensation: a coefficient already well inside the right cell is
    left alone), by adding the same change to R, G and B (Y moves, Cb and Cr do not). Rounding to 8 bits and
    clipping to 0..255 move the coefficients again, so the embedding is repeated `iterations` times on the
    rounded container (each pass a projection onto the bits' cells); a coefficient that clipping kept from its
    point is sent to the bit's point on its other side. Pure black or white areas still carry nothing (a
    pattern with both signs does not fit there): the text planner measures that and refuses what will not fit.
  - reading: a soft logit per slot, temperature(slot) · sin(π (c − unit/2) / unit): ±temperature on the
    lattice points, 0 on the decision boundaries. The temperatures are the only learned parameters (trained
    through the `noise` block, so the text decoder's soft decisions are calibrated to the channel).

Pixels outside whole 8×8 blocks (the right and bottom remainders of a cover whose sides are not multiples of 8)
are left as they are. Written here because no maintained library does dither modulation on a JPEG-aligned
luma DCT with a batched, jit-able decoder; the DCT and the quantisation tables are `jaxsteg.attacks.
jpeg_transform`'s (the differentiable codec's).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from jaxsteg.attacks import jpeg_transform

LUMA = (0.299, 0.587, 0.114)   # JFIF (libjpeg's jccolor).
BLOCKED = 1.0   # A coefficient further than this beyond its reach after a pass is taken as blocked by clipping.


@functools.lru_cache(maxsize=None)
def slot_table(quality: int, slots: int, min_unit: float) -> tuple[tuple[tuple[int, int], ...], np.ndarray]:
  """((u, v) per slot, unit per slot (float32)): the `slots` cheapest positions of a block at `quality`."""
  table = jpeg_transform.quantization_tables(quality)[0]
  order = jpeg_transform.zigzag()

  def unit(cell):
    q = float(table[cell])
    m = max(1, int(np.ceil((min_unit / q - 1.0) / 2.0)) * 2 + 1) if q < min_unit else 1
    return q * m

  cells = sorted(order, key=lambda c: (unit(c), order.index(c)))[:slots]
  return tuple(cells), np.asarray([unit(c) for c in cells], np.float32)


def _selector(cells) -> np.ndarray:
  """(K, 8, 8) one-hot: slot k is coefficient cells[k]."""
  e = np.zeros((len(cells), 8, 8), np.float32)
  for k, (u, v) in enumerate(cells):
    e[k, u, v] = 1.0
  return e


def luma(pixels: jnp.ndarray) -> jnp.ndarray:
  """(B, H, W, C) on the 0..255 scale -> Y (B, H, W) (C = 1: the grey channel itself)."""
  if pixels.shape[-1] == 1:
    return pixels[..., 0]
  return jnp.tensordot(pixels, jnp.asarray(LUMA, pixels.dtype), axes=([-1], [0]))


def slot_coefficients(plane: jnp.ndarray, cells) -> jnp.ndarray:
  """Y (B, 8h, 8w) -> the slot coefficients (B, h, w, K) of Y − 128."""
  coefficients = jpeg_transform.block_dct(plane - 128.0)        # (B, h, 8, w, 8)
  return jnp.einsum("niujv,kuv->nijk", coefficients, _selector(cells), precision=jpeg_transform.HIGHEST)


def _slot_image(change: jnp.ndarray, cells) -> jnp.ndarray:
  """Slot coefficient changes (B, h, w, K) -> the pixel change (B, 8h, 8w) they make."""
  full = jnp.einsum("nijk,kuv->niujv", change, _selector(cells), precision=jpeg_transform.HIGHEST)
  return jpeg_transform.block_idct(full)


def targets(coefficients: jnp.ndarray, bits: jnp.ndarray, units: jnp.ndarray) -> jnp.ndarray:
  """The nearest lattice point of each coefficient's bit: odd multiples of the unit for 1, even for 0."""
  parity = bits.astype(coefficients.dtype)
  return 2.0 * units * jnp.round((coefficients - parity * units) / (2.0 * units)) + parity * units


def embed(cover: jnp.ndarray, bits: jnp.ndarray, *, quality: int, slots: int, min_unit: float, margin: float,
          iterations: int) -> jnp.ndarray:
  """Cover (B, H, W, C) on 0..255 (8-bit values) and bits (B, H//8, W//8, K) -> the 8-bit container, 0..255."""
  cells, units = slot_table(quality, slots, min_unit)
  h, w = bits.shape[1] * 8, bits.shape[2] * 8
  reach = jnp.maximum(0.0, units / 2.0 - margin)   # How far from its lattice point a coefficient may stay.
  x = cover[:, :h, :w]
  c = slot_coefficients(luma(x), cells)
  t = targets(c, bits, units)
  for _ in range(iterations):
    change = jnp.clip(c, t - reach, t + reach) - c
    x = jnp.clip(jnp.round(x + _slot_image(change, cells)[..., None]), 0.0, 255.0)
    c = slot_coefficients(luma(x), cells)
    # A coefficient the pixels could not take to its point (clipped: a dark shadow cannot get darker) goes to
    # the bit's point on its other side instead.
    blocked = jnp.abs(c - t) > reach + BLOCKED
    t = jnp.where(blocked, t + 2.0 * units * jnp.sign(c - t), t)
  return cover.at[:, :h, :w].set(x)


def read(container: jnp.ndarray, log_temperature: jnp.ndarray, *, quality: int, slots: int,
         min_unit: float) -> jnp.ndarray:
  """Container (B, H, W, C) on 0..255 -> bit logits (B, H//8, W//8, K), > 0 meaning 1."""
  cells, units = slot_table(quality, slots, min_unit)
  h, w = container.shape[1] // 8 * 8, container.shape[2] // 8 * 8
  c = slot_coefficients(luma(container[:, :h, :w]), cells)
  return jnp.exp(log_temperature) * jnp.sin(jnp.pi * (c - units / 2.0) / units)


def init_params(slots: int, temperature: float = 3.0) -> dict:
  return {"log_temperature": jnp.full((slots,), np.log(temperature), jnp.float32)}


def model_kwargs(model) -> dict:
  """The lattice's settings from a config's `model` block."""
  return {"quality": int(model.quality), "slots": int(model.slots), "min_unit": float(model.min_unit)}


def check(model) -> None:
  """ValueError naming the problem for a malformed `model` block."""
  if not 1 <= int(model.quality) <= 100:
    raise ValueError(f"model.quality must be in 1..100, got {model.quality!r}")
  if not 1 <= int(model.slots) <= 64:
    raise ValueError(f"model.slots must be in 1..64 (coefficients of an 8x8 block), got {model.slots!r}")
  if float(model.margin) < 0 or int(model.iterations) < 1:
    raise ValueError(f"model.margin must be >= 0 and model.iterations >= 1, got {model.margin!r}, "
                     f"{model.iterations!r}")

