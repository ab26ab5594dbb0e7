r"""EncryptGAN CPU demo on data that installed packages ship (no download, no accelerator).

X = faces of scikit-image's LFW subset (25×25 grey, as RGB, resized to 36 and cropped to 32), Y = 32×32 crops
of the embedded photographs, messages = scikit-learn's 8×8 digits resized to 16×16 (half the cover side, as
the paper's 128 on 256). Held out: 26 faces (so 25 wrong private keys per example), the test photographs,
297 digits. Narrow networks [inf] so that it trains on 2 CPU cores in under 30 minutes.

Run:
  python -m jaxsteg.main --config configs/encryptgan_embedded.py --workdir runs/encryptgan_embedded
Measured (3000 steps, 10 min 40 s wall on a 2-core CPU): message-region PSNR 22.15 dB / SSIM 0.949 with the
right private key, 7.30 dB / 0.330 averaged over 25 wrong keys (26 held-out faces). See README
"EncryptGAN: keyed domain translation".
Arguments: `tiny` (seconds, for tests), `steps=N`.
"""

import ml_collections

from configs import common
from configs import encryptgan_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, steps=3000)
  c = encryptgan_base.get_base(steps=a.steps)
  c.cpu_devices = 2             # One device per core.
  c.batch_size = 8
  c.log_every = 200
  c.checkpoint_every = 1000
  c.data.domains = "embedded"
  c.data.cover = "lfw_faces"
  c.data.secret = "sklearn_digits"
  c.data.image_size = 32
  c.data.load_size = 36
  c.data.eval_size = 32
  c.data.message_size = 16
  c.model.ngf = 16              # [inf] CPU widths; the paper's are 64 / 9 blocks / 3 layers.
  c.model.n_blocks = 2
  c.model.ndf = 8
  c.model.disc_layers = 2
  c.model.key_features = (8, 16, 16, 16, 16, 16)
  c.model.key_strides = (1, 2, 1, 1, 1, 1)   # [inf] 16×16 key maps on 32×32 images.
  c.model.private_key_to_encoder = True   # [inf] F(x+m, K(y)) alone: no key dependence in two CPU runs.
  c.loss.paired_wrong_key = True   # [inf] the same disguise with both keys: a direct signal for key dependence.
  c.loss.disguise_noise_std = 0.01
  c.loss.info = 50.0            # [inf] spec 10: 16.8 dB right key at 10, 23.4 dB at 50 (3000 steps).
  c.loss.security = 300.0       # [inf] spec 10: at info 50, wrong keys 20.3 dB with 10, 7.3 dB with 300.
  c.optim.learning_rate = 1e-3  # [inf] faster than the paper's 2e-4 for a short CPU run.
  c.eval.batch_size = 32
  c.evals.heldout.num_grid_examples = 8
  c.evals.key_sensitivity.num_examples = 26
  c.evals.key_sensitivity.num_wrong_keys = 25
  c.evals.fid_lpips.num_examples = 26
  if a.tiny:
    encryptgan_base.apply_tiny(c)
  return c
