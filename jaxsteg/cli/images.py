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

from jaxsteg import images as image_io
from jaxsteg import operations
from jaxsteg.cli import common

NEEDS = operations.IMAGE_NEEDS


def _revealed_paths(out: str, k: int) -> list[str]:
  if k == 1:
    return [out]
  stem, ext = os.path.splitext(out)
  return [f"{stem}_{i}{ext}" for i in range(k)]


def _load(args):
  """(run, key) for the workdir of `args`: the passphrase asked for before the (slow) restore."""
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  passphrase = common.passphrase_for(args, inference.load_config(args.workdir))
  run = common.load_run(args.workdir, _capability(), NEEDS, args.step)
  return run, operations.key_for(run, passphrase)


def _capability():
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  return tasks.ImageHider


def cmd_hide(args) -> None:
  common.check_output(args.out)
  common.check_not_inputs({"--out": args.out}, {"--cover": args.cover,
                                                **{f"--secret #{i + 1}": s for i, s in enumerate(args.secret)}})
  cover = common.read_image(args.cover, "cover")
  secrets = [common.read_image(s, "secret") for s in args.secret]
  run, key = _load(args)
  container = operations.hide_images(run, key, cover, secrets, args.secret, args.cover)
  image_io.write_png(args.out, container)
  print(args.out)


def cmd_reveal(args) -> None:
  common.check_not_inputs({"--out": args.out}, {"--stego": args.stego})
  stego = common.read_image(args.stego, "stego image")
  run, key = _load(args)
  outs = _revealed_paths(args.out, run.task.num_secrets(run.config))
  for o in outs:
    common.check_output(o)
  common.check_not_inputs({"--out" if i == 0 else f"--out #{i + 1}": o for i, o in enumerate(outs)},
                          {"--stego": args.stego})
  for o, img in zip(outs, operations.reveal_images(run, key, stego, args.stego)):
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
  common.add_step_option(h)
  h.set_defaults(fn=cmd_hide)
  r = sub.add_parser("reveal", help="reveal the secret image(s) from a container")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--out", required=True, help="revealed image, .png (K-secret models: name_0.png, ...)")
  common.add_passphrase_options(r, reveal=True)
  common.add_step_option(r)
  r.set_defaults(fn=cmd_reveal)
