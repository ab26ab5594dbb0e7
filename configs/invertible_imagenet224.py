r"""Invertible hiding at HiNet's scale: 16 coupling blocks, growth 32 (4.05 M parameters), 224×224 crops.

For accelerators. HiNet trained on DIV2K (batch 8 pairs, Adam β (0.5, 0.999), lr 10^-4.5 halved every 1000
epochs, ≈ 139 k iterations); DIV2K is not in TFDS's prepared sets here, so this reads ImageNet (TFDS
`imagenet2012`, prepared by the user, manual download). Trained through 8-bit rounding (straight-through); the
loss-spike rollback (configs.common.add_stability) replaces HiNet's manual rollbacks.

Run (one host; see README "Scaling out" for pods):
  python -m jaxsteg.main --config configs/invertible_imagenet224.py --workdir runs/invertible_in224 \
      --config.data.data_dir=DIR
Expected: not yet measured here; HiNet reports 46.86 dB secret / 38.82 dB container (RGB, from the float stego,
DIV2K).
Arguments: `tiny`, `steps=N`, `batch=B`, `blocks=N`, `growth=N`, `rounding=ste|pris|none`.
"""

import ml_collections

from configs import common
from configs import invertible_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, steps=140_000, batch=16, blocks=16, growth=32, rounding="ste")
  c = invertible_base.get_base(blocks=a.blocks, growth=a.growth, steps=a.steps)
  c.data.cover = c.data.secret = "imagenet2012"
  c.data.image_size = c.data.eval_size = 224
  c.data.eval_max_examples = 10_000
  c.loss.rounding = a.rounding
  c.batch_size = a.batch
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 20_000
  c.eval.batch_size = 64
  # [inf] Cosine decay to a tenth instead of HiNet's halvings every 1000 DIV2K epochs.
  c.optim.schedule = "cosine"
  c.optim.final_fraction = 0.1
  if a.tiny:
    invertible_base.apply_tiny(c)
  return c
