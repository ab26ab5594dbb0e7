"""Image hiding commands: `jaxsteg hide` and `jaxsteg reveal`, for any model that hides images
(`tasks.ImageHider`: Deep Steganography, KeyMixer, ImageCloak's image variant).

  jaxsteg hide   --workdir W --cover c.png --secret s.png [--secret s2.png ...] --out stego.png
  jaxsteg reveal --workdir W --stego stego.png --out revealed.png

KeyMixer models trained in passphrase key mode also need `--passphrase-file F` (or `--passphrase TEXT`, or a
prompt without echo in a terminal); a wrong passphrase cannot be detected and reveals noise. The container has
exactly the cover's size (the networks are fully convolutional); a secret of another size is resized to the
cover's.
"""

from __future__ import annotations

import os

import numpy as np

from jaxsteg import errors
from jaxsteg import images as image_io
from jaxsteg.cli import common

NEEDS = "hide and reveal need a model that hides images (configs/deepstego_*.py, keymixer_*.py, cloak_image_*.py)"


def _revealed_paths(out: str, k: int) -> list[str]:
  if k == 1:
    return [out]
  stem, ext = os.path.splitext(out)
  return [f"{stem}_{i}{ext}" for i in range(k)]


def _load(args):
  """(run, key) for the workdir of `args`: the passphrase asked for before the (slow) restore."""
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  passphrase = common.passphrase_for(args, inference.load_config(args.workdir))
  run = common.load_run(args.workdir, tasks.ImageHider, NEEDS)
  key = None
  if isinstance(run.task, tasks.Keyed):
    key = run.task.key_for_use(run.config, run.params, passphrase)
  return run, key


def cmd_hide(args) -> None:
  from jaxsteg.tasks import common as task_common  # pylint: disable=g-import-not-at-top
  common.check_output(args.out)
  cover = common.read_image(args.cover, "cover")
  secrets = [common.read_image(s, "secret") for s in args.secret]
  run, key = _load(args)
  k = run.task.num_secrets(run.config)
  if len(secrets) != k:
    raise errors.UserError(f"this model hides {k} secret image(s); got {len(secrets)} --secret")
  common.check_size(cover, f"cover {args.cover!r}")
  for i, s in enumerate(secrets):
    if s.shape[:2] != cover.shape[:2]:
      common.note(f"secret {args.secret[i]} resized from {s.shape[1]}x{s.shape[0]} to the cover's "
                  f"{cover.shape[1]}x{cover.shape[0]}")
      secrets[i] = common.resize_to(s, cover.shape[:2])
  container = task_common.hide_images(run.task, run.config, run.params, cover, np.stack(secrets), key)
  image_io.write_png(args.out, container)
  print(args.out)


def cmd_reveal(args) -> None:
  from jaxsteg.tasks import common as task_common  # pylint: disable=g-import-not-at-top
  stego = common.read_image(args.stego, "stego image")
  run, key = _load(args)
  outs = _revealed_paths(args.out, run.task.num_secrets(run.config))
  for o in outs:
    common.check_output(o)
  common.check_size(stego, f"stego image {args.stego!r}")
  revealed = task_common.reveal_images(run.task, run.config, run.params, stego, key)
  for o, img in zip(outs, revealed):
    image_io.write_png(o, img)
    print(o)


def add_commands(sub) -> None:
  """Adds hide and reveal to the `jaxsteg` argument parser's subparsers."""
  h = sub.add_parser("hide", help="hide secret image(s) in a cover; writes an 8-bit PNG container")
  h.add_argument("--workdir", required=True, help="a training run's workdir (its latest checkpoint is used)")
  h.add_argument("--cover", required=True, help="cover image (PNG, JPEG, ...)")
  h.add_argument("--secret", required=True, action="append", help="secret image; repeat for K-secret models")
  h.add_argument("--out", required=True, help="output container, .png")
  common.add_passphrase_options(h)
  h.set_defaults(fn=cmd_hide)
  r = sub.add_parser("reveal", help="reveal the secret image(s) from a container")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--out", required=True, help="revealed image, .png (K-secret models: name_0.png, ...)")
  common.add_passphrase_options(r, reveal=True)
  r.set_defaults(fn=cmd_reveal)
