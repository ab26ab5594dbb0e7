r"""Bit payloads, robust CPU demo: the embedded exact-text demo trained through differentiable distortions.

The same networks, data and schedule as `configs/bits_embedded.py`, with a `noise` block
(`jaxsteg.attacks.channel`): in training the decoder sees the 8-bit container through one differentiable layer
per batch (JPEG at quality 90 and 75 as libjpeg-turbo codes it, Gaussian noise, or none beyond 8-bit rounding),
ramped in after a clean start. Evaluation is the embedded demo's (held-out 128×128 covers, 8-bit containers,
the exact text path); `jaxsteg benchmark` measures the real distortions.

Run (CPU, 2 cores):
  python -m jaxsteg.main --config configs/bits_robust_embedded.py --workdir runs/bits_robust_embedded
Arguments: `tiny` (seconds, for tests), `depth=D`, `steps=N`, `layers=jpeg:90+...` (the training mix).
"""

import ml_collections

from configs import bits_embedded
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, depth=1, steps=4000, layers="jpeg:90+jpeg:75+noise:2+round8")
  c = bits_embedded.get_config(f"depth={a.depth},steps={a.steps}" + (",tiny" if a.tiny else ""))
  c.noise = common.noise_block(tuple(a.layers.split("+")), mode="one_of",
                               clean_steps=min(500, c.num_train_steps // 4),
                               ramp_steps=min(1000, c.num_train_steps // 4))
  # Bits and the exact text after real distortions of every held-out 8-bit container, in the final evaluation.
  c.evals.robustness = ml_collections.ConfigDict()
  c.evals.robustness.distortions = ("jpeg:95", "jpeg:90", "jpeg:75", "noise:2", "png")
  c.evals.robustness.text_bytes = 512
  c.evals.robustness.plan_for = "jpeg:90"   # Planned like `hide-text --survive jpeg:90`.
  if a.tiny:
    c.evals.robustness.distortions = ("jpeg:90", "png")
    c.evals.robustness.max_images = 2
    c.evals.robustness.text_bytes = 16
  return c
