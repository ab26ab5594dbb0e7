r"""ImageCloak text variant on grey 28×28 crops of the embedded photographs (offline; CPU).

The same task as `cloak_text_fmnist.py` with covers that need no download: grey random 28×28 crops of the
embedded training photographs; held out: the grid of 28×28 crops of the three held-out photographs (the
first `eval_max_examples`), each with its own held-out text window. The revealer classifies each cell's
character (`head=class`, the default); `head=regress` reads the codes as grey levels (a few per cent of the
characters). The default 'fast' networks [inf] make a CPU run possible; `arch=blog` is the paper's.

Run (CPU):
  python -m jaxsteg.main --config configs/cloak_text_embedded.py --workdir runs/cloak_text_embedded
Expected: see README "Hiding text exactly" (character accuracy next to ImageCloak's 91.48 %).
Arguments: `tiny`, `arch=blog|light|fast`, `steps=N`, `head=class|regress`.
"""

import ml_collections

from configs import cloak_text_base
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="fast", steps=2000, head="class")
  c = cloak_text_base.get_base(arch=a.arch, steps=a.steps, head=a.head)
  c.data.cover = "embedded"
  c.data.eval_max_examples = 256
  c.cpu_devices = 2
  c.batch_size = 32
  c.log_every = 100
  c.checkpoint_every = 1000
  c.eval_every = 500             # A held-out curve: 256 messages take seconds.
  c.eval.batch_size = 64
  c.optim.learning_rate = 2e-3   # [inf] With warmup and cosine decay: a short CPU schedule.
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 100
  c.optim.final_fraction = 0.05
  if a.tiny:
    cloak_text_base.apply_tiny(c)
  return c
