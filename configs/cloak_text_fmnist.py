r"""ImageCloak text variant, faithful: ASCII text as a 28×28 matrix hidden in Fashion-MNIST covers.

Baluja's blog-version networks, single channel, a class head on the revealer; character accuracy as the paper
measures it, a classification accuracy (ImageCloak reports 91.48 % test, 95.32 % train). Prepare the data
once: `python -m jaxsteg.data.prepare fashion_mnist --data_dir DIR`.

Run:
  python -m jaxsteg.main --config configs/cloak_text_fmnist.py --workdir runs/cloak_text_fmnist \
      --config.data.data_dir=DIR
Expected: not measured here (no prepared Fashion-MNIST); see configs/cloak_text_embedded.py for a CPU number.
Arguments: `tiny`, `arch=blog|light|fast`, `steps=N`, `head=class|regress`.
"""

import ml_collections

from configs import cloak_text_base
from configs import common


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  a = common.parse_arg(arg, tiny=False, arch="blog", steps=50_000, head="class")
  c = cloak_text_base.get_base(arch=a.arch, steps=a.steps, head=a.head)
  c.data.cover = "fashion_mnist"
  c.data.flip = False            # [inf] Garments have a canonical orientation.
  c.batch_size = 32
  c.log_every = 100
  c.checkpoint_every = 5000
  c.eval_every = 10_000
  c.eval.batch_size = 256
  c.optim.learning_rate = 1e-4   # Baluja blog: Adam 1e-4.
  if a.tiny:
    cloak_text_base.apply_tiny(c)
  return c
