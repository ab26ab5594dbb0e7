r"""Deep Steganography CPU demo on the embedded photographs (no download, no accelerator).

The 'fast' networks [inf: ours, not Baluja's] work at half resolution (space-to-depth ×2) with a residual
container and linear skips. Training: random 32×32 crops of the embedded training photographs. Evaluation: a
grid of 64×64 crops of the held-out photographs (chelsea, coffee, flower), 8-bit containers.

Run (9-11 minutes on 2 CPU cores, depending on the machine):
  python -m jaxsteg.main --config configs/deepstego_embedded.py --workdir runs/deepstego_embedded
Expected: see README "Results" (measured with this command).
Arguments: `tiny` (seconds, for tests), `arch=blog|light|fast`, `secrets=K`, `steps=N`.
"""

import ml_collections

from configs import common
from configs import deepstego_base


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="fast", secrets=1, steps=5000)
  c = deepstego_base.get_base(arch=a.arch, secrets=a.secrets, steps=a.steps)
  c.cpu_devices = 2             # One device per core of a 2-core CPU: 1.5-2x faster than one device.
  c.batch_size = 16            # Measured: more steps at batch 16 beat fewer at batch 32 in the same time.
  c.microbatches = 1            # Raise for larger batches on CPU (cache-sized convolutions, same gradients).
  c.log_every = 250
  c.checkpoint_every = 1000
  c.optim.learning_rate = 1e-3
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 100
  c.optim.final_fraction = 0.05
  c.eval.batch_size = 32
  if a.tiny:
    deepstego_base.apply_tiny(c)
  return c


def sweep() -> list[dict]:
  """β against learning rate (expand with launch/sweep.py)."""
  return [{"loss.beta": beta, "optim.learning_rate": lr} for beta in (0.5, 0.75, 1.0) for lr in (5e-4, 1e-3)]
