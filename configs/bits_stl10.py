r"""Bit payloads (SteganoGAN "Dense", D bits per pixel) on STL-10 (96×96), SteganoGAN's own settings, for
accelerators: Adam 1e-4, 100·MSE + BCE + critic, BatchNorm replaced by GroupNorm [inf].

Covers: STL-10 `unlabelled` + `train`; held out: `test` (8-bit containers, then the exact text path on every
held-out cover at `evals.text_recovery.bpp`). Prepare the data once: `python -m jaxsteg.data.prepare stl10 --data_dir DIR`.

Run:
  python -m jaxsteg.main --config configs/bits_stl10.py:depth=2 --workdir runs/bits_stl10_d2 \
      --config.data.data_dir=DIR
Expected: not measured here (no accelerator); SteganoGAN reports up to 4.4 RS-BPP (abstract) on its datasets.
Arguments: `tiny`, `depth=D` (bits per pixel, 1..6), `steps=N`.
"""

import ml_collections

from configs import bits_base
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, depth=2, steps=100_000)
  c = bits_base.get_base(depth=a.depth, steps=a.steps)
  c.data.cover = "stl10"
  c.data.image_size = c.data.eval_size = 96
  c.data.eval_max_examples = 1000
  c.batch_size = 64
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 20_000
  c.eval.batch_size = 64
  c.evals.text_recovery.bpp = 0.25         # [inf] 288 bytes per 96×96 cover.
  if a.tiny:
    bits_base.apply_tiny(c)
  return c
