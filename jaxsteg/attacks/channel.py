"""The training channel: what a revealer sees of a container in training, from a config's `noise` block.

In training only, between the container and the revealer, the container is rounded to 8 bits (the PNG that is
sent, straight-through gradient) and then distorted by differentiable layers of `jaxsteg.attacks.differentiable`
(the same spec names as the real distortions that evaluation applies):

  noise.layers        specs, e.g. ("jpeg:90", "jpeg:50", "noise:2", "resize:0.5"); empty: the channel is off
                      and the family keeps its own training channel (Gaussian noise, 8-bit rounding)
  noise.mode          "one_of": one layer drawn per batch (HiDDeN's combined setting); "all": in sequence
  noise.rounding      how the JPEG layer rounds its coefficients: "ste" (straight-through) or "cubic"
  noise.clean_steps   steps at the start that see only the 8-bit container (the payload channel forms first)
  noise.ramp_steps    then the chance that a batch is distorted rises linearly to `noise.probability`
  noise.probability   the chance after the ramp (the other batches see the clean 8-bit container)

The decision to distort is drawn once per batch, like the layer, so every example of a batch sees the same
channel and the program holds one branch per layer (`jax.lax.switch`, compiled once). Evaluation never uses
this module: it measures on real 8-bit containers and real codecs (`jaxsteg.evaluators.robustness`). The block's
defaults (off) are `configs.common.noise_block()`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxsteg import errors
from jaxsteg.attacks import differentiable

MODES = ("one_of", "all")


def enabled(config: ml_collections.ConfigDict) -> bool:
  block = config.get("noise")
  return bool(block is not None and block.get("layers"))


def check(config: ml_collections.ConfigDict) -> None:
  """Raises `ConfigError` naming the problem for a malformed `noise` block (called before training starts)."""
  if not enabled(config):
    return
  block = config.noise
  if block.get("mode", "one_of") not in MODES:
    raise errors.ConfigError(f"noise.mode must be one of {', '.join(MODES)}, got {block.mode!r}")
  if not 0.0 <= float(block.get("probability", 1.0)) <= 1.0:
    raise errors.ConfigError(f"noise.probability must be in 0..1, got {block.probability!r}")
  for name in ("clean_steps", "ramp_steps"):
    if int(block.get(name, 0)) < 0:
      raise errors.ConfigError(f"noise.{name} must be >= 0, got {block.get(name)!r}")
  for spec in block.layers:
    differentiable.get(spec, block.get("rounding", "ste"))


def strength_at(config: ml_collections.ConfigDict, step) -> jnp.ndarray:
  """The chance that a batch at `step` is distorted: 0 during `clean_steps`, then a linear ramp over
  `ramp_steps` up to `probability`."""
  block = config.noise
  clean, ramp = int(block.get("clean_steps", 0)), int(block.get("ramp_steps", 0))
  top = jnp.float32(block.get("probability", 1.0))
  step = jnp.asarray(step, jnp.float32)
  if ramp:
    frac = jnp.clip((step - clean) / ramp, 0.0, 1.0)
  else:
    frac = (step >= clean).astype(jnp.float32)
  return top * frac


def apply(config: ml_collections.ConfigDict, container: jnp.ndarray, cover: jnp.ndarray, key: jax.Array,
          step) -> jnp.ndarray:
  """What the revealer sees in training: the container (float (B, H, W, C) in [0, 1]) rounded to 8 bits, then,
  with the chance `strength_at(step)`, distorted by the block's layers. Differentiable throughout."""
  block = config.noise
  rounding = block.get("rounding", "ste")
  sent = differentiable.round8(container)
  k_use, k_layer = jax.random.split(key)
  if block.get("mode", "one_of") == "all":
    distort = lambda x: differentiable.apply_all(block.layers, x, k_layer, cover, rounding)  # pylint: disable=unnecessary-lambda-assignment
  else:
    distort = lambda x: differentiable.apply_one_of(block.layers, x, k_layer, cover, rounding)  # pylint: disable=unnecessary-lambda-assignment
  use = jax.random.uniform(k_use, ()) < strength_at(config, step)
  return jax.lax.cond(use, distort, lambda x: x, sent)
