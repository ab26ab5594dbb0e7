"""Fields shared by every Deep Steganography config (not a runnable config itself)."""

import ml_collections

from configs import common


def get_base(*, arch: str, secrets: int, steps: int) -> ml_collections.ConfigDict:
  c = common.base_config()
  c.task = "deepstego"
  c.num_train_steps = steps

  c.data = ml_collections.ConfigDict()
  c.data.cover = "embedded"
  c.data.secret = "embedded"
  c.data.data_dir = ""          # '' : TFDS default ($TFDS_DATA_DIR or ~/tensorflow_datasets).
  c.data.image_size = 32        # Training images.
  c.data.eval_size = 64         # Held-out images.
  c.data.channels = 3
  c.data.flip = True
  c.data.rotate_degrees = 0.0   # Training: uniform random rotation in ±this many degrees (0: none).
  c.data.crop = ""              # '' : the dataset's own cut (datasets.SPECS); or random|resize|resize_crop|letterbox.
  c.data.load_size = 0          # resize_crop only: resize to this, then crop image_size.
  c.data.split_per_process = True   # Multi-host: each process reads its own share of a TFDS split.
  c.data.eval_max_examples = 0  # 0: all.

  c.model = ml_collections.ConfigDict()
  c.model.arch = arch           # blog | light | fast
  c.model.num_secrets = secrets
  c.model.width = 64 if arch == "fast" else 50   # 'blog': 50 in the paper; 'light' has fixed widths.
  c.model.s2d = 2               # 'fast' only: space-to-depth factor.
  c.model.prep_depth = 2        # 'fast' only.
  c.model.hide_depth = 4        # 'fast' only.
  c.model.reveal_depth = 4      # 'fast' only.
  c.model.residual = arch == "fast"   # Container = cover + hide output [inf]; Baluja's is not residual.

  c.noise = common.noise_block()   # Training channel: off (configs.common.noise_block).

  c.loss = ml_collections.ConfigDict()
  c.loss.beta = 0.75            # Baluja blog default.
  c.loss.noise_std = 0.01       # Container noise in training (on [0, 1] images), gradients flow through.
  c.loss.beta_start = 0.75      # [inf] β decays linearly from beta_start to beta over beta_warmup_steps.
  c.loss.beta_warmup_steps = 0
  c.loss.adversary = 0.0        # [inf] > 0: train against a steganalyser in the same step (its weight; see task).
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.image_size = 16
  c.data.eval_size = 16
  c.data.eval_max_examples = 12
  c.model.width = 8
