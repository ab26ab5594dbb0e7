"""Fields shared by every EncryptGAN config (not a runnable config itself). [src] = the paper or CycleGAN,
[inf] = our choice where the sources are silent (methods spec §C)."""

import ml_collections

from configs import common


def get_base(*, steps: int) -> ml_collections.ConfigDict:
  c = common.base_config()
  c.task = "encryptgan"
  c.num_train_steps = steps
  c.batch_size = 8              # [src] CycleGAN trains with batch 1; instance norm makes any batch per-example.

  c.data = ml_collections.ConfigDict()
  c.data.domains = "celeba_flowers"   # embedded | celeba_flowers
  c.data.cover = "celeb_a"            # Names for the results record (X domain, messages).
  c.data.secret = "svhn_cropped"
  c.data.data_dir = ""
  c.data.image_size = 256       # [src] random 256 crops of images resized to 286.
  c.data.load_size = 286
  c.data.eval_size = 256
  c.data.message_size = 64      # [src] 64 or 128 on 256 covers.
  c.data.paste_prob = 0.5       # [src] p = 0.5, random place in training, centre at test.
  c.data.flip = True
  c.data.eval_max_examples = 0  # 0: all.
  c.data.embedded_train_faces = 74    # embedded only: LFW faces 0..73 train, 74..99 held out (26 faces).

  c.model = ml_collections.ConfigDict()
  c.model.ngf = 64              # [src] ResNet-9 generator: c7s1-64, d128, d256, 9×R256, u128, u64, c7s1-3.
  c.model.n_down = 2
  c.model.n_blocks = 9
  c.model.ndf = 64              # [src] 70×70 PatchGAN = 3 layers.
  c.model.disc_layers = 3
  c.model.key_features = (64, 128, 256, 256, 256, 256)   # [inf] six 4×4 conv modules of K.
  c.model.key_strides = (2, 2, 2, 2, 2, 2)                # [inf]
  c.model.key_padding = "REFLECT"   # [inf] SAME (zeros) made corner artefacts dominate the min-max scaled keys.
  c.model.private_key_to_encoder = False   # [inf] True: F also sees K(x) (Alice holds the cover); paper: False.
  c.model.pool_size = 50        # [src] CycleGAN's history of generated images.

  c.loss = ml_collections.ConfigDict()
  c.loss.gan = 1.0              # (1) LSGAN.
  c.loss.cycle = 10.0           # [src CycleGAN λ] full-image cycle loss with the correct key.
  c.loss.key_match = 10.0       # (2) [inf weight 10]
  c.loss.info = 10.0            # (3) [inf weight 10]
  c.loss.security = 10.0        # (4) [inf weight 10]
  c.loss.security_mode = "hinge"   # [inf] hinge: relu(margin − MSE(region, m)); noise: L1 toward fresh noise.
  c.loss.security_margin = 0.1  # [inf] on [0, 1] images: wrong-key region PSNR pushed below 10 dB.
  c.loss.wrong_key_prob = 0.5   # [src] p = 0.5 per example.
  c.loss.paired_wrong_key = False   # [inf] True: decode every example with its key AND a wrong key (one more G pass).
  c.loss.disguise_noise_std = 0.0   # [inf] Gaussian noise (on [0, 1] scale) on the disguise before G in training.

  c.optim.learning_rate = 2e-4  # [src] Adam 2e-4, β1 0.5; constant for half the steps, then linear to 0.
  c.optim.b1 = 0.5
  c.optim.schedule = "linear_decay"
  c.optim.decay_start_fraction = 0.5

  c.eval.batch_size = 8
  c.evals.heldout.num_grid_examples = 6
  c.evals.key_sensitivity = ml_collections.ConfigDict()   # Wrong keys and key sensitivity.
  c.evals.key_sensitivity.num_examples = 64      # Held-out examples in the wrong-key and key-sensitivity analyses.
  c.evals.key_sensitivity.num_wrong_keys = 25    # Wrong private keys per example (the other held-out examples' keys).
  c.evals.key_sensitivity.sigmas = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)   # On [-1, 1] images.
  c.evals.fid_lpips = ml_collections.ConfigDict()   # FID and LPIPS (weights from user files).
  c.evals.fid_lpips.fid_weights = ""      # Inception weights file (.npz); '' skips FID.
  c.evals.fid_lpips.lpips_weights = ""    # LPIPS weights file (.npz); '' skips LPIPS.
  c.evals.fid_lpips.image_size = 299      # Inception input side (pytorch-fid resizes to 299).
  c.evals.fid_lpips.num_examples = 64     # The first held-out examples (FID is biased upward for few).
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.data.image_size = 16
  c.data.load_size = 18
  c.data.eval_size = 16
  c.data.message_size = 8
  c.data.eval_max_examples = 12
  c.model.ngf = 4
  c.model.n_blocks = 1
  c.model.ndf = 4
  c.model.disc_layers = 2
  c.model.key_features = (4, 4, 4, 4, 4, 4)
  c.model.key_strides = (2, 1, 1, 1, 1, 1)
  c.model.pool_size = 5
  c.evals.key_sensitivity.num_examples = 6
  c.evals.key_sensitivity.num_wrong_keys = 3
  c.evals.key_sensitivity.sigmas = (0.0, 0.1)
  c.evals.fid_lpips.num_examples = 6
