r"""Deep Steganography against a steganalyser: the embedded demo with an adversary in its training step.

The same networks, data and schedule as `configs/deepstego_embedded.py`, plus `loss.adversary` (SteganoGAN's
critic, HiDDeN's adversary, here a steganalyser): a XuNet with GroupNorm learns to tell the 8-bit containers
from their covers in the same jitted step, and the hider's loss gains `loss.adversary` × −log P(cover) under
the detector's current parameters. Gradient clipping and the non-finite-step skip (`configs.common.add_stability`,
without rollback) guard the adversarial game. `jaxsteg benchmark` measures the result against the demo.

Run (CPU, 2 cores):
  python -m jaxsteg.main --config configs/deepstego_adversarial_embedded.py --workdir runs/deepstego_adversarial_embedded
Arguments: `tiny` (seconds, for tests), `steps=N`, `weight=W` (the adversary's weight).
"""

import ml_collections

from configs import common
from configs import deepstego_embedded


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, steps=5000, weight=1e-3)
  c = deepstego_embedded.get_config(f"steps={a.steps}" + (",tiny" if a.tiny else ""))
  c.loss.adversary = a.weight
  common.add_stability(c, grad_clip=1.0, skip_nonfinite=5, rollback=False)
  return c
