r"""ImageCloak image variant: Baluja's blog networks on letterboxed 224×224 ImageNet, ImageNet-normalised,
with a VGG16 block3_conv3 perceptual loss whose weights you provide (nothing is downloaded).

Prepare ImageNet (TFDS `imagenet2012`, manual download) and a VGG16 weights file (.npz; the format and how to
convert torchvision or Keras weights: jaxsteg/models/vgg.py). Without the weights file the run refuses to start.

Run:
  python -m jaxsteg.main --config configs/cloak_image_imagenet224.py --workdir runs/cloak_image_in224 \
      --config.data.data_dir=DIR --config.loss.vgg_weights=/path/vgg16_block3.npz
Expected: not measured here (no accelerator, no ImageNet); ImageCloak reports SSIM 0.8898, PSNR 31.12 dB.
Arguments: `tiny` (embedded images at 32×32 and random VGG weights, for tests), `arch=blog|light|fast`,
`steps=N`, `batch=B`.
"""

import ml_collections

from configs import common
from configs import deepstego_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="blog", steps=200_000, batch=32)
  c = deepstego_base.get_base(arch=a.arch, secrets=1, steps=a.steps)
  c.task = "cloak_image"
  c.data.cover = c.data.secret = "imagenet2012"
  c.data.crop = "letterbox"      # ImageCloak: the whole image fitted into 224×224, aspect kept.
  c.data.image_size = c.data.eval_size = 224
  c.data.flip = False            # [inf] ImageCloak does not say it augments.
  c.data.eval_max_examples = 10_000
  c.batch_size = a.batch
  c.log_every = 100
  c.checkpoint_every = 2000
  c.eval_every = 20_000
  c.eval.batch_size = 32
  c.optim.learning_rate = 1e-4   # Baluja blog: Adam 1e-4.
  c.loss.beta = 0.75             # ImageCloak: MSE + 0.75·MSE.
  c.loss.noise_std = 0.0         # [inf] ImageCloak's loss has no container noise term.
  c.loss.perceptual_weight = 1.0   # [inf] w: the weight of the VGG feature terms is not given.
  c.loss.vgg_weights = ""        # Path to the .npz (required); 'random' for tests only.
  c.loss.vgg_preprocess = "torch"  # 'torch' (torchvision weights) or 'caffe' (Keras weights).
  if a.tiny:
    deepstego_base.apply_tiny(c)
    c.data.cover = c.data.secret = "embedded"   # No ImageNet in tests.
    c.data.image_size = c.data.eval_size = 32    # The VGG stack pools twice: a multiple of 4.
    c.loss.vgg_weights = "random"
  return c
