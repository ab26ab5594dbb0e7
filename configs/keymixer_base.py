"""Fields shared by every KeyMixer config (not a runnable config itself). Methods spec §B; [inf] = our choice."""

import ml_collections

from configs import common


def get_base(*, arch: str, mode: str, steps: int, salt: str) -> ml_collections.ConfigDict:
  if mode not in ("trainable", "passphrase"):
    raise ValueError(f"mode must be 'trainable' or 'passphrase', got {mode!r}")
  c = common.base_config()
  c.task = "keymixer"
  c.num_train_steps = steps

  c.data = ml_collections.ConfigDict()
  c.data.cover = "embedded"
  c.data.secret = "embedded"
  c.data.data_dir = ""
  c.data.image_size = 32
  c.data.eval_size = 64
  c.data.channels = 3
  c.data.flip = True
  c.data.rotate_degrees = 0.0   # Random rotations of training images (spec: ±10° on STL-10).
  c.data.channel_gain = ()      # [inf] (max gain, max offset, probability): colour augmentation of training
                                # covers and secrets (jaxsteg.data.pipeline.channel_gain); () off.
  c.data.eval_max_examples = 0

  c.model = ml_collections.ConfigDict()
  c.model.arch = arch           # spec (§B, full resolution) | fast [inf: CPU variant, space-to-depth].
  c.model.key_mode = mode       # trainable (the paper: K is a weight) | passphrase [inf: K from a KDF].
  c.model.width = 64            # §B: Block(3, 64).
  c.model.mixer_depth = 3       # §B: 3 × [Block, Norm, ReLU] in mixer and unmixer.
  c.model.encoder_depth = 6     # §B: 6 × Block(3, 64).
  c.model.decoder_depth = 6
  c.model.s2d = 2               # 'fast' only: space-to-depth factor.
  c.model.key_size = 16         # [inf] K is (key_size, key_size, key_channels), tiled over the image.
  c.model.key_channels = 12 if arch == "fast" else 3   # [inf] = image channels at the nets' resolution.
  c.model.key_product = True    # [inf] mixer/unmixer also see (x − ½)·tanh K (see jaxsteg/models/keymixer.py).
  c.model.key_init = "signflip" if arch == "fast" else "default"   # [inf] start at a keyed sign flip.
  c.model.signflip_gain = 4.0   # [inf] σ(4u) ≈ ½ + u near 0.

  c.kdf = ml_collections.ConfigDict()
  c.kdf.salt = salt            # Per-model scrypt salt, saved in config.json: change it for each model you ship.
  c.kdf.scrypt_n = 2**15       # scrypt cost (≈ 32 MiB, ≈ 0.1 s per guess).
  c.kdf.scrypt_r = 8
  c.kdf.scrypt_p = 1
  c.model.key_std = 2.0         # [inf] K ~ N(0, 2²): tanh K is mostly near ±1.

  c.noise = common.noise_block()   # Training channel: off (configs.common.noise_block).

  c.loss = ml_collections.ConfigDict()
  c.loss.secret_weight = 1.0    # §B: λ = 1.
  c.loss.noise_std = 0.01       # [inf] Gaussian container noise in training (on [0, 1] images).
  passphrase = mode == "passphrase"
  c.loss.wrong_key_weight = 1.0 if passphrase else 0.0   # [inf] μ; the paper has no wrong-key term.
  c.loss.wrong_key_margin = 0.1     # [inf] m in max(0, m − MSE(S, S'_wrong)): ≥ 0.1 ⇔ PSNR ≤ 10 dB.
  c.loss.wrong_key_corr_weight = 1.0   # [inf] γ·corr(S, S'_wrong)²: no inverted-image escape.
  c.loss.wrong_key_fraction = 0.5   # Spec: "on half the batches"; here per example [inf].
  c.loss.mix_corr_weight = 0.0      # [inf] optional γ'·corr(S, S_mix)².

  c.evals.security = ml_collections.ConfigDict()   # The security report (jaxsteg/evaluators/security.py).
  c.evals.security.enabled = True     # False: skip it.
  c.evals.security.num_wrong_keys = 20
  c.evals.security.num_pairs = 3000   # Adjacent-pixel pairs per direction (§0: ≥ 3000).
  c.evals.security.max_images = 16    # Held-out images analysed (0: all).
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.image_size = 16
  c.data.eval_size = 16
  c.data.eval_max_examples = 8
  c.model.width = 8
  c.model.mixer_depth = 1
  c.model.encoder_depth = 2
  c.model.decoder_depth = 2
  c.model.key_size = 4
  c.kdf.scrypt_n = 2**10       # Tests: cheap KDF.
  c.evals.security.max_images = 4
