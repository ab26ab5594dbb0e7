"""The `jaxsteg` command: use a trained run on real image files.

  jaxsteg hide   --workdir W --cover c.png --secret s.png [--secret s2.png ...] --out stego.png
  jaxsteg reveal --workdir W --stego stego.png --out revealed.png

The container has exactly the cover's size (the networks are fully convolutional); a secret of another size is
resized to the cover's. Outputs are 8-bit RGB PNGs written atomically. User mistakes get one line on stderr and
exit code 2, never a traceback or a partial file.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from jaxsteg import images as image_io

EXIT_USAGE = 2
MAX_PIXELS = 4096 * 4096


class CliError(Exception):
  """A problem the user can fix; the message says what and how."""


def _check_output(path: str) -> None:
  if os.path.isdir(path):
    raise CliError(f"output {path!r} is a directory; give a file name ending in .png")
  directory = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(directory):
    raise CliError(f"cannot write {path!r}: directory {directory!r} does not exist")
  if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
    raise CliError(f"cannot write {path!r}: permission denied")
  if not path.lower().endswith(".png"):
    raise CliError(f"output {path!r} must be a .png file (a lossy format would destroy the hidden data)")


def _read(path: str, what: str) -> np.ndarray:
  img, note = image_io.read_rgb(path, what=what)
  if note:
    print(f"jaxsteg: note: {note}", file=sys.stderr)
  return img


def _check_size(img: np.ndarray, what: str) -> None:
  """Any size works (the task pads to its networks' multiple and crops back), up to a memory limit."""
  h, w = img.shape[:2]
  if h * w > MAX_PIXELS:
    raise CliError(f"{what} is {w}x{h} pixels, more than this command handles ({MAX_PIXELS} pixels); "
                   f"downscale it first")


def _resize_to(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  return np.asarray(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.LANCZOS))


def _revealed_paths(out: str, k: int) -> list[str]:
  if k == 1:
    return [out]
  stem, ext = os.path.splitext(out)
  return [f"{stem}_{i}{ext}" for i in range(k)]


def cmd_hide(args) -> None:
  _check_output(args.out)
  cover = _read(args.cover, "cover")
  secrets = [_read(s, "secret") for s in args.secret]
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  run = inference.load_run(args.workdir)
  k = run.config.model.num_secrets
  if len(secrets) != k:
    raise CliError(f"this model hides {k} secret image(s); got {len(secrets)} --secret")
  _check_size(cover, f"cover {args.cover!r}")
  for i, s in enumerate(secrets):
    if s.shape[:2] != cover.shape[:2]:
      print(f"jaxsteg: note: secret {args.secret[i]} resized from {s.shape[1]}x{s.shape[0]} to the cover's "
            f"{cover.shape[1]}x{cover.shape[0]}", file=sys.stderr)
      secrets[i] = _resize_to(s, cover.shape[:2])
  container = run.task.hide_images(run.config, run.params, cover, np.stack(secrets))
  image_io.write_png(args.out, container)
  print(args.out)


def cmd_reveal(args) -> None:
  stego = _read(args.stego, "stego image")
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top
  run = inference.load_run(args.workdir)
  outs = _revealed_paths(args.out, run.config.model.num_secrets)
  for o in outs:
    _check_output(o)
  _check_size(stego, f"stego image {args.stego!r}")
  revealed = run.task.reveal_images(run.config, run.params, stego)
  for o, img in zip(outs, revealed):
    image_io.write_png(o, img)
    print(o)


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog="jaxsteg", description=__doc__.split("\n\n")[0])
  sub = parser.add_subparsers(dest="command", required=True)
  h = sub.add_parser("hide", help="hide secret image(s) in a cover; writes an 8-bit PNG container")
  h.add_argument("--workdir", required=True, help="a training run's workdir (its latest checkpoint is used)")
  h.add_argument("--cover", required=True, help="cover image (PNG, JPEG, ...)")
  h.add_argument("--secret", required=True, action="append", help="secret image; repeat for K-secret models")
  h.add_argument("--out", required=True, help="output container, .png")
  h.set_defaults(fn=cmd_hide)
  r = sub.add_parser("reveal", help="reveal the secret image(s) from a container")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--out", required=True, help="revealed image, .png (K-secret models: name_0.png, ...)")
  r.set_defaults(fn=cmd_reveal)
  return parser


def main(argv: list[str] | None = None) -> int:
  args = build_parser().parse_args(argv)
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top
  try:
    args.fn(args)
  except (CliError, image_io.ImageError, inference.RunError) as e:
    print(f"jaxsteg: error: {e}", file=sys.stderr)
    return EXIT_USAGE
  return 0


if __name__ == "__main__":
  sys.exit(main())
