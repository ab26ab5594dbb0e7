r"""Deep Steganography on STL-10 (96×96), blog-version networks, for accelerators.

Covers and secrets are independent draws from STL-10 `unlabelled` + `train`; evaluation pairs `test` images.
Prepare the data once (needs TensorFlow and a network): `python -m jaxsteg.data.prepare stl10 --data_dir DIR`.

Run:
  python -m jaxsteg.main --config configs/deepstego_stl10.py --workdir runs/deepstego_stl10 \
      --config.data.data_dir=DIR
Expected: not yet measured here (no accelerator); Baluja reports ≈ 36.7 / 35.8 dB on ImageNet (a survey's
figures).
Arguments: `tiny`, `arch=blog|light|fast`, `secrets=K`, `steps=N`.
"""

import ml_collections

from configs import common
from configs import deepstego_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="blog", secrets=1, steps=100_000)
  c = deepstego_base.get_base(arch=a.arch, secrets=a.secrets, steps=a.steps)
  c.data.cover = c.data.secret = "stl10"
  c.data.image_size = c.data.eval_size = 96
  c.batch_size = 64
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 10_000
  c.eval.batch_size = 64
  c.optim.learning_rate = 1e-4  # Baluja blog: Adam 1e-4.
  if a.tiny:
    deepstego_base.apply_tiny(c)
  return c
