"""Fields shared by every steganalysis (CNN detector) config (not a runnable config itself)."""

import ml_collections

from configs import common


def get_base(*, arch: str, steps: int, spec: str) -> ml_collections.ConfigDict:
  c = common.base_config()
  c.task = "steganalysis"
  c.num_train_steps = steps
  c.batch_size = 16             # PAIRS per batch: 2 × 16 images, each container beside its own cover (SRNet).

  c.hider = ml_collections.ConfigDict()
  c.hider.spec = spec           # A workdir (any family) or a classical embedder: lsbr|lsbm|hill:RATE (bpp).
  c.hider.workdir = ""          # Alias: a workdir here wins over hider.spec.

  c.data = ml_collections.ConfigDict()
  c.data.cover = "embedded"     # Crops of the embedded photographs, split by photograph (attacks.pairs).
  c.data.size = 64              # Crop side, training and held-out.
  c.data.train_pairs = 4000     # Training pool, made once at setup (capped at steps × batch_size).
  c.data.flip = True            # Training: the same random flip and rot90 for a container and its cover.
  c.data.rot90 = True
  c.data.eval_max_pairs = 0     # 0: all held-out pairs (142 at 64×64).

  c.model = ml_collections.ConfigDict()
  c.model.arch = arch           # xunet | srnet | srnet_slim
  c.model.widths = ()           # SRNets: 7 widths of layers 1, 2-7, 8, 9, 10, 11, 12 (); () the arch's own.
  c.model.bn_momentum = 0.9
  # [inf] SRNets: layer 1 starts from 3×3 SRM high-pass kernels (same architecture, another init). Measured on
  # lsbm:1.0 (benchmarks/cnn_calibration.py): the slim SRNet stayed at chance for 100 steps without it (train
  # accuracy 0.50), and learned with it (0.63 over steps 1-100, held-out 0.77 at 300 steps).
  c.model.high_pass_init = arch != "xunet"

  c.optim.name = "adam"         # adam | adamw | adamax (SRNet's).
  c.optim.learning_rate = 1e-3

  c.evals.heldout.enabled = False   # The detection evaluator scores the held-out pairs.
  c.evals.detection = ml_collections.ConfigDict()
  c.evals.detection.num_bootstrap = 1000
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  common.apply_tiny(c)
  c.batch_size = 8
  c.data.train_pairs = 64
  c.evals.detection.num_bootstrap = 50
  c.optim.warmup_steps = 0
