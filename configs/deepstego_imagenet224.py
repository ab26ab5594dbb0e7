r"""Deep Steganography at the blog's size: ImageNet 224×224, blog-version networks, Adam 1e-4, β 0.75.

The blog trained with batch 8 on one GPU; the global batch here is 8 per device (set `batch=` to change it).
ImageNet must be prepared by the user (TFDS `imagenet2012`, manual download).

Run (one host; see README "Scaling out" for pods):
  python -m jaxsteg.main --config configs/deepstego_imagenet224.py --workdir runs/deepstego_in224 \
      --config.data.data_dir=DIR
Expected: not yet measured here; a 2022 survey quotes 36.7 dB (cover) / 35.75 dB (secret) for Baluja's model.
Arguments: `tiny`, `arch=`, `secrets=K`, `steps=N`, `batch=B`.
"""

import ml_collections

from configs import common
from configs import deepstego_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="blog", secrets=1, steps=200_000, batch=64)
  c = deepstego_base.get_base(arch=a.arch, secrets=a.secrets, steps=a.steps)
  c.data.cover = c.data.secret = "imagenet2012"
  c.data.image_size = c.data.eval_size = 224
  c.data.eval_max_examples = 10_000
  c.batch_size = a.batch
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 20_000
  c.eval.batch_size = 64
  c.optim.learning_rate = 1e-4
  if a.tiny:
    deepstego_base.apply_tiny(c)
  return c
