"""Fields shared by the ImageCloak text-variant configs (not a runnable config itself)."""

import ml_collections

from configs import common
from configs import deepstego_base


def get_base(*, arch: str, steps: int) -> ml_collections.ConfigDict:
  """Deep Steganography fields with one secret: the 28×28×1 image of 784 ASCII codes / 255."""
  c = deepstego_base.get_base(arch=arch, secrets=1, steps=steps)
  c.task = "cloak_text"
  c.data.secret = "text"         # Informational: the secrets are text windows (jaxsteg.tasks.cloak_text).
  c.data.image_size = 28         # ImageCloak: 28×28 covers, 784 characters.
  c.data.eval_size = 28
  c.data.channels = 1            # Single-channel covers and text image.
  c.data.flip = True             # Covers only (the text is never flipped).
  c.loss.beta = 1.0              # [inf] "MSE + MSE" (the spec); Baluja's blog uses 0.75.
  c.loss.noise_std = 0.0         # [inf] No container noise: one level of 255 is one character code.
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.eval_max_examples = 8
  c.model.width = 8
