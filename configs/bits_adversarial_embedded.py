r"""Bit payloads against a steganalyser: the embedded exact-text demo with an adversary in its training step.

The same networks, data, schedule and 36.5 dB quality hinge as `configs/bits_embedded.py`, plus `loss.adversary`
(HiDDeN's adversary, SteganoGAN's critic, here a steganalyser): a XuNet with GroupNorm learns to tell the 8-bit
containers from their covers in the same jitted step, and the encoder's loss gains `loss.adversary` ×
−log P(cover) under the detector's current parameters. The hinge holds the container's PSNR, so the adversary
can move the payload's residual but not buy invisibility with quality. Gradient clipping and the non-finite-step
skip (`configs.common.add_stability`, without rollback) guard the game. `jaxsteg benchmark` measures the pair.

Run (CPU, 2 cores):
  python -m jaxsteg.main --config configs/bits_adversarial_embedded.py --workdir runs/bits_adversarial_embedded
Arguments: `tiny` (seconds, for tests), `steps=N`, `weight=W` (the adversary's weight).
"""

import ml_collections

from configs import bits_embedded
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, steps=4000, weight=0.05)
  c = bits_embedded.get_config(f"steps={a.steps}" + (",tiny" if a.tiny else ""))
  c.loss.adversary = a.weight
  common.add_stability(c, grad_clip=1.0, skip_nonfinite=5, rollback=False)
  return c
