"""Fields shared by the ImageCloak text-variant configs (not a runnable config itself)."""

import ml_collections

from configs import common
from configs import deepstego_base


def get_base(*, arch: str, steps: int, head: str = "class") -> ml_collections.ConfigDict:
  """Deep Steganography fields with one message per cover: the 28×28 matrix of 784 characters."""
  c = deepstego_base.get_base(arch=arch, secrets=1, steps=steps)
  c.task = "cloak_text"
  c.data.secret = "text"         # Informational: the messages are text windows (jaxsteg.tasks.cloak_text).
  c.data.image_size = 28         # ImageCloak: 28×28 covers, 784 characters.
  c.data.eval_size = 28
  c.data.channels = 1            # Single-channel covers.
  c.data.flip = True             # Covers only (the text is never flipped).
  c.data.short_fraction = 0.25   # [inf] Training messages cut to a random length (padding cells); held out: full.
  c.model.head = head            # class: a softmax over the code points per cell | regress: codes / 255 as grey.
  c.model.reveal_gain = 1.0       # class head: the revealer's conv body reads gain·(C' − 0.5) [inf].
  c.model.embed_dim = 16         # class head: the prep network's per-cell embedding of the character class.
  c.loss.container_weight = 1.0  # class head: weight of MSE(C, C') (on [0, 1] images).
  c.loss.text_weight = 1.0       # class head: weight of the per-cell cross-entropy.
  c.loss.straight_through = True  # class head: the revealer reads the 8-bit container in training too.
  c.loss.beta = 1.0              # regress head: [inf] "MSE + MSE" (the spec); Baluja's blog uses 0.75.
  c.loss.noise_std = 0.0         # [inf] No container noise: one level of 255 is one character code.
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.eval_max_examples = 8
  c.model.width = 8
  c.model.embed_dim = 4
