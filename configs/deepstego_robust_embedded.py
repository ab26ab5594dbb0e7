r"""Deep Steganography, robust CPU demo: the embedded demo trained through differentiable distortions.

The same networks and data as `configs/deepstego_embedded.py`, with a `noise` block (`jaxsteg.attacks.channel`):
in training the revealer sees the 8-bit container through one differentiable layer per batch (JPEG at quality
90 or 75 as libjpeg-turbo codes it, Gaussian noise σ 2, or none beyond 8-bit rounding), ramped in after a clean
start so the secret channel forms first. The distortions cost secret quality, so the secret weighs more than in
the demo (β 0.75 instead of 0.5) and training is longer (10000 steps instead of 5000): measured, β 0.5 with 8000
or 12000 steps kept the secret below 24 dB after JPEG 90, β 1.0 put the container below 30 dB. Evaluation is the
embedded demo's: held-out photographs, 8-bit containers; `jaxsteg benchmark` measures the real distortions.

Run (CPU, 2 cores; README "Robust hiding" has the measured time and numbers):
  python -m jaxsteg.main --config configs/deepstego_robust_embedded.py --workdir runs/deepstego_robust_embedded
Arguments: `tiny` (seconds, for tests), `steps=N`, `beta=B`, `layers=jpeg:90+jpeg:75+...` (the training mix).
"""

import ml_collections

from configs import common
from configs import deepstego_embedded


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, steps=10000, beta=0.75, layers="jpeg:90+jpeg:75+noise:2+round8")
  c = deepstego_embedded.get_config(f"steps={a.steps}" + (",tiny" if a.tiny else ""))
  c.loss.beta = a.beta
  c.loss.beta_start = a.beta
  c.loss.noise_std = 0.0       # The noise layer (and JPEG's own rounding) replaces the Gaussian training noise.
  c.noise = common.noise_block(tuple(a.layers.split("+")),
                               mode="one_of", clean_steps=min(500, c.num_train_steps // 4),
                               ramp_steps=min(1500, c.num_train_steps // 4))
  # The secret after real distortions of every held-out 8-bit container, in the final evaluation.
  c.evals.robustness = ml_collections.ConfigDict()
  c.evals.robustness.distortions = ("jpeg:95", "jpeg:90", "jpeg:75", "jpeg:50", "noise:2", "resize:0.5", "png")
  if a.tiny:
    c.evals.robustness.distortions = ("jpeg:90", "png")
    c.evals.robustness.max_images = 4
  return c
