r"""KeyMixer on STL-10 (Iqbal et al. 2026 setting, methods spec §B): 96×96, flips, ±10° rotations.

Architecture 'spec' (full resolution, 6 × Block(3, 64) encoder/decoder, GroupNorm [inf]), Adam 1e-4 [inf].
Needs the TFDS `stl10` dataset prepared in data_dir (or $TFDS_DATA_DIR) and an accelerator.

Run:
  python -m jaxsteg.main --config configs/keymixer_stl10.py --workdir runs/keymixer_stl10
  python -m jaxsteg.main --config configs/keymixer_stl10.py:mode=trainable --workdir runs/keymixer_stl10_tr
Expected: not yet measured (the paper reports SSIM > 0.90 for cover and secret).
Arguments: `tiny`, `mode=passphrase|trainable`, `arch=spec|fast`, `steps=N`, `salt=S`.
"""

import ml_collections

from configs import common
from configs import keymixer_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, mode="passphrase", arch="spec", steps=100_000,
                       salt="jaxsteg/keymixer_stl10/v1")
  c = keymixer_base.get_base(arch=a.arch, mode=a.mode, steps=a.steps, salt=a.salt)
  c.data.cover = "stl10"
  c.data.secret = "stl10"
  c.data.image_size = 96
  c.data.eval_size = 96
  c.data.flip = True
  c.data.rotate_degrees = 10.0
  c.model.key_size = 32         # [inf] a 32×32 key tile at full resolution.
  c.batch_size = 32
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 10_000
  c.optim.learning_rate = 1e-4  # [inf] not public.
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 1000
  c.eval.batch_size = 64
  c.evals.security.max_images = 64
  if a.tiny:
    keymixer_base.apply_tiny(c)
  return c
