r"""CNN steganalysis on the embedded photographs: a detector trained on a frozen hider's pairs (CPU).

Pairs are 64×64 crops, split by photograph (jaxsteg.attacks.pairs): the detector trains on a pool of pairs of
the training photographs and is scored on the 142 held-out pairs of the held-out photographs (chelsea, coffee,
flower): eval/<step>/detection.json (accuracy, AUC, P_E with bootstrap intervals, ROC).

Run (against LSB matching at 1 bpp, or any workdir):
  python -m jaxsteg.main --config configs/steganalysis_embedded.py:arch=xunet,spec=lsbm:1.0 --workdir runs/det
Arguments: `tiny` (seconds, for tests), `arch=xunet|srnet|srnet_slim`, `steps=N`, `spec=HIDER` (a workdir or
lsbr|lsbm|hill:RATE). Measured numbers: benchmarks/cnn_calibration.py.
"""

import ml_collections

from configs import common
from configs import steganalysis_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="xunet", steps=1200, spec="lsbm:1.0")
  c = steganalysis_base.get_base(arch=a.arch, steps=a.steps, spec=a.spec)
  c.cpu_devices = 2             # One device per core of a 2-core CPU.
  c.log_every = 100
  c.checkpoint_every = 1000
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = min(50, a.steps // 10)
  c.optim.final_fraction = 0.05
  c.eval.batch_size = 32
  if a.tiny:
    steganalysis_base.apply_tiny(c)
  return c
