r"""EncryptGAN on CelebA (X) ↔ Oxford Flowers 102 (Y) with SVHN messages, as in the paper (accelerator config).

Paper settings [src S8/S9]: 256×256 random crops of images resized to 286, ResNet-9 generators, 70×70 PatchGAN,
Adam 2e-4 β1 0.5, constant then linear decay over the second half, LSGAN, pool of 50, messages of 64 or 128
pixels pasted with p = 0.5 (random place in training, centre at test). [inf]: batch 8 instead of 1 (instance
norm keeps examples independent), a step budget instead of 200 epochs, CelebA's 178×178 centre square.

Data: `tfds build celeb_a oxford_flowers102 svhn_cropped` first (README "Data"); then
  python -m jaxsteg.main --config configs/encryptgan_celeba_flowers.py:msg=64 --workdir runs/encryptgan_cf64
FID / LPIPS: add --config.evals.fid_lpips.fid_weights=FILE --config.evals.fid_lpips.lpips_weights=FILE (skipped
otherwise).
Arguments: `tiny` (seconds on CPU under tfds.testing.mock_data, for tests), `msg=64|128`, `steps=N`.
"""

import ml_collections

from configs import common
from configs import encryptgan_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, msg=64, steps=200_000)
  if a.msg not in (64, 128):
    raise ValueError(f"msg must be 64 or 128 (the paper's message sizes), got {a.msg}")
  c = encryptgan_base.get_base(steps=a.steps)
  c.data.domains = "celeba_flowers"
  c.data.cover = "celeb_a"
  c.data.secret = "svhn_cropped"
  c.data.message_size = a.msg
  c.log_every = 500
  c.checkpoint_every = 5000
  c.eval.batch_size = 16
  c.evals.key_sensitivity.num_examples = 64
  c.evals.key_sensitivity.num_wrong_keys = 25
  c.evals.fid_lpips.num_examples = 64
  if a.tiny:
    encryptgan_base.apply_tiny(c)
  return c
