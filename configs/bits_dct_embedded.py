r"""Bit payloads in JPEG's domain (`jaxsteg.tasks.bits_dct`) on the embedded photographs: text through JPEG 90.

K = 44 bits per 8×8 block (0.69 raw bits per pixel) on the luma DCT coefficients with the smallest units at
the design quality 90 (`jaxsteg.models.dct_qim`). Training (seconds) fits only the decoder's per-slot
temperatures, through the differentiable JPEG at quality 90 (`noise` block), so the soft decisions the text
code weighs are calibrated to the channel messages are planned for. Evaluation: every 128×128 grid crop of the
held-out photographs, 8-bit containers; the exact text path (512 bytes = 0.25 net bits per pixel, encrypted,
planned on the clean container); and the robustness evaluator with the same 512-byte text planned for real
JPEG 90 (`hide-text --survive jpeg:90`) and read after real JPEG 95 / 90 / 85 / 75, noise and PNG.

Run (CPU, 2 cores):
  python -m jaxsteg.main --config configs/bits_dct_embedded.py --workdir runs/bits_dct_embedded
Arguments: `tiny` (seconds, for tests), `quality=Q` (the JPEG quality the layout is designed for), `slots=K`,
`steps=N`.
"""

import ml_collections

from configs import bits_base
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, quality=90, slots=44, steps=300)
  c = bits_base.get_base(depth=a.slots, steps=a.steps)
  c.task = "bits_dct"
  c.cpu_devices = 2             # One device per core of a 2-core CPU.
  c.batch_size = 16
  c.log_every = 50
  c.checkpoint_every = 1000
  c.model = ml_collections.ConfigDict()
  c.model.quality = a.quality   # Design quality: the luma table whose steps the lattice is built on.
  c.model.slots = a.slots       # K, bits per 8×8 block: the coefficients with the smallest units.
  c.model.min_unit = 4.0        # Units below this (q = 2, 3) are taken 3 times: rounding noise exceeds q/2.
  c.model.margin = 1.2          # A coefficient stays at least this far (0..255 scale) inside its bit's cell.
  c.model.iterations = 4        # Embedding passes on the rounded, clipped container.
  c.noise = common.noise_block(("jpeg:90",), mode="one_of")
  c.loss = ml_collections.ConfigDict()   # Binary cross-entropy of the decoder's logits (nothing to weigh).
  c.optim.learning_rate = 0.05  # Adam on K log-temperatures.
  c.eval.batch_size = 16
  c.eval.refine_steps = 0       # The embedding is already informed by the cover: nothing to refine.
  c.evals.text_recovery.bpp = 0.25   # 512 bytes in a 128×128 cover.
  c.evals.robustness = ml_collections.ConfigDict()
  c.evals.robustness.distortions = ("jpeg:95", "jpeg:90", "jpeg:85", "jpeg:75", "noise:1", "noise:2", "png")
  c.evals.robustness.text_bytes = 512
  c.evals.robustness.plan_for = "jpeg:90"   # Planned like `hide-text --survive jpeg:90`.
  if a.tiny:
    bits_base.apply_tiny(c)
    c.eval.refine_steps = 0
    c.data.eval_size = 64
    c.evals.text_recovery.bpp = 0.05
    c.evals.robustness.distortions = ("jpeg:90", "png")
    c.evals.robustness.max_images = 2
    c.evals.robustness.text_bytes = 16
  return c
