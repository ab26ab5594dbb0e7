"""Fields shared by every invertible (HiNet-class) config (not a runnable config itself); methods spec §F."""

import ml_collections

from configs import common


def get_base(*, blocks: int, growth: int, steps: int) -> ml_collections.ConfigDict:
  c = common.base_config()
  c.task = "invertible"
  c.num_train_steps = steps

  c.data = ml_collections.ConfigDict()
  c.data.cover = "embedded"
  c.data.secret = "embedded"
  c.data.data_dir = ""          # '' : TFDS default ($TFDS_DATA_DIR or ~/tensorflow_datasets).
  c.data.image_size = 32        # Training crops (even sides: the Haar transform halves them).
  c.data.eval_size = 64         # Held-out crops.
  c.data.channels = 3
  c.data.flip = True
  c.data.rotate_degrees = 0.0
  c.data.crop = ""
  c.data.load_size = 0
  c.data.split_per_process = True
  c.data.eval_max_examples = 0  # 0: all.

  c.model = ml_collections.ConfigDict()
  c.model.num_secrets = 1       # One secret per container (DeepMIH cascades one network per secret: not here).
  c.model.blocks = blocks       # HiNet: 16 coupling blocks.
  c.model.growth = growth       # HiNet: 32 (dense-block growth).
  c.model.clamp = 2.0           # HiNet: 2.0.
  c.model.reveal_z = "gaussian"   # gaussian (HiNet: z ~ N(0, I)) | zero.
  c.model.z_seed = 0            # The fixed z draw used at test (evaluation, CLI): revealing is deterministic.

  c.noise = common.noise_block()   # Training channel: off (configs.common.noise_block).

  c.loss = ml_collections.ConfigDict()
  # HiNet: 1 / 5 / 1 on sums; here means [inf], so the weights do not depend on the image size.
  c.loss.guide_weight = 1.0
  c.loss.reconstruction_weight = 5.0
  c.loss.low_freq_weight = 1.0
  c.loss.rounding = "ste"       # ste | pris | none: what the revealer sees in training (none: HiNet's float).

  # HiNet: Adam β (0.5, 0.999), lr 10^-4.5, no coupled weight decay with mean losses [inf].
  c.optim.learning_rate = 10 ** -4.5
  c.optim.b1 = 0.5
  c.optim.b2 = 0.999
  common.add_stability(c, grad_clip=1.0)
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.image_size = 16
  c.data.eval_size = 16
  c.data.eval_max_examples = 12
  c.model.blocks = 2
  c.model.growth = 8
  c.stability.min_history = 2
