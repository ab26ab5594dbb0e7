"""Fields shared by every bit-payload (SteganoGAN-style) config (not a runnable config itself)."""

import ml_collections

from configs import common


def get_base(*, depth: int, steps: int) -> ml_collections.ConfigDict:
  c = common.base_config()
  c.task = "bits"
  c.num_train_steps = steps

  c.data = ml_collections.ConfigDict()
  c.data.cover = "embedded"
  c.data.data_dir = ""          # '' : TFDS default ($TFDS_DATA_DIR or ~/tensorflow_datasets).
  c.data.image_size = 32        # Training crops (the networks are fully convolutional).
  c.data.eval_size = 128        # Held-out covers.
  c.data.channels = 3
  c.data.flip = True
  c.data.rotate_degrees = 0.0
  c.data.channel_gain = ()      # [inf] (max gain, max offset in levels, probability): per-channel gain and
                                # offset, clipped to 8 bits, on training covers (saturated channels); () off.
  c.data.crop = ""              # '' : the dataset's own cut (datasets.SPECS).
  c.data.load_size = 0
  c.data.split_per_process = True
  c.data.eval_max_examples = 0  # 0: all.

  c.model = ml_collections.ConfigDict()
  c.model.depth = depth         # D, bits per pixel (SteganoGAN: 1..6).
  c.model.width = 32            # SteganoGAN: 32.
  c.model.norm = "group"        # [inf] SteganoGAN: BatchNorm; group|layer|none work the same on any device count.
  c.model.zero_init_residual = False   # [inf] True: the encoder starts at container = cover.
  c.model.decoder_skip = False  # [inf] True: the decoder's output conv also sees the container (linear path).

  c.noise = common.noise_block()   # Training channel: off (configs.common.noise_block).

  c.loss = ml_collections.ConfigDict()
  c.loss.mse_weight = 100.0     # SteganoGAN: 100·MSE(C', C).
  c.loss.bce_weight = 1.0       # SteganoGAN: 1·BCE(logits, M).
  c.loss.critic_weight = 1.0    # SteganoGAN: + critic(C'); 0 turns the critic off.
  c.loss.critic_clip = 0.1      # SteganoGAN: critic weights clipped to ±0.1.
  c.loss.psnr_target = 0.0      # [inf] >0: hinge target_weight·max(0, MSE − MSE at this PSNR) (0: off).
  c.loss.target_weight = 1e4
  c.loss.psnr_target_start = 0.0   # [inf] With psnr_ramp_steps > 0: the target rises from this PSNR.
  c.loss.psnr_ramp_steps = 0
  c.loss.train_on_8bit = True   # [inf] The decoder sees the 8-bit container (straight-through) in training.

  c.optim.learning_rate = 1e-4  # SteganoGAN: Adam 1e-4.

  c.evals.text_recovery = ml_collections.ConfigDict()   # The exact text path over every held-out cover.
  c.evals.text_recovery.bpp = 0.5         # Net payload bits per pixel of the messages.
  c.evals.text_recovery.passphrase = "jaxsteg-eval"   # '' : no encryption (CRC integrity only).
  # [inf] Hide-time refinement of each text container (jaxsteg.tasks.bits.refine_container; 0 steps: off, the
  # encoder's container as SteganoGAN sends it): Adam on the container's pixels until the decoder reads all
  # but refine_tolerance of the bits of the 8-bit container, its PSNR held at or above refine_psnr. Used by
  # the capacity probe, the text evaluation and `jaxsteg hide-text`; the model metrics (bit accuracy, container
  # PSNR) stay the network's.
  c.eval.refine_steps = 30
  c.eval.refine_lr = 0.004      # Adam step on [0, 1] pixels (≈ one 8-bit level).
  c.eval.refine_margin = 2.0    # Logit margin: bits are pushed past |logit| = 2, not just across 0.
  c.eval.refine_psnr = 36.5     # dB: the floor on each refined container.
  c.eval.refine_tolerance = 0.005   # Stop once at most this fraction of bits is wrong (the code corrects it).
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.image_size = 16
  c.data.eval_size = 48          # Large enough to hold a text header (the text itself may not fit).
  c.data.eval_max_examples = 8
  c.model.width = 8
  c.evals.text_recovery.bpp = 0.05
  c.eval.refine_steps = 3
