"""The `jaxsteg` command: use a trained run on real image files.

  jaxsteg hide   --workdir W --cover c.png --secret s.png [--secret s2.png ...] --out stego.png
  jaxsteg reveal --workdir W --stego stego.png --out revealed.png

KeyMixer models trained in passphrase key mode also need `--passphrase-file F` (or `--passphrase TEXT`, or a
prompt without echo in a terminal); a wrong passphrase cannot be detected and reveals noise.

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


def _needs_passphrase(config) -> bool:
  return config.get("model", {}).get("key_mode") == "passphrase"


def read_passphrase_file(path: str) -> str:
  """The file's text without one trailing newline (so `echo pw > f` works)."""
  if not os.path.exists(path):
    raise CliError(f"passphrase file {path!r} does not exist")
  if os.path.isdir(path):
    raise CliError(f"passphrase file {path!r} is a directory; give a file holding the passphrase")
  try:
    with open(path, encoding="utf-8") as f:
      text = f.read()
  except (OSError, UnicodeDecodeError) as e:
    raise CliError(f"cannot read passphrase file {path!r} ({type(e).__name__}); give a UTF-8 text file") from e
  for end in ("\n", "\r"):
    text = text[:-1] if text.endswith(end) else text
  if not text:
    raise CliError(f"passphrase file {path!r} is empty; write the passphrase in it")
  return text


def _passphrase_for(args, config) -> dict:
  """{'passphrase': ...} for passphrase-mode models, {} for others; never prints the passphrase."""
  given = getattr(args, "passphrase", None)
  path = getattr(args, "passphrase_file", None)
  if given is not None and path is not None:
    raise CliError("give either --passphrase or --passphrase-file, not both")
  if not _needs_passphrase(config):
    if given is not None or path is not None:
      raise CliError(f"the model in {args.workdir!r} takes no passphrase (its key mode is "
                     f"{config.get('model', {}).get('key_mode') or 'none'}); drop --passphrase/--passphrase-file")
    return {}
  if path is not None:
    return {"passphrase": read_passphrase_file(path)}
  if given is not None:
    if not given:
      raise CliError("--passphrase is empty; give the passphrase (or use --passphrase-file FILE)")
    return {"passphrase": given}
  if sys.stdin is not None and sys.stdin.isatty():
    import getpass  # pylint: disable=g-import-not-at-top
    try:
      text = getpass.getpass("jaxsteg: passphrase: ")
    except (EOFError, KeyboardInterrupt) as e:
      raise CliError("no passphrase entered") from e
    if not text:
      raise CliError("the passphrase is empty; enter the model's passphrase")
    return {"passphrase": text}
  raise CliError(f"the model in {args.workdir!r} needs a passphrase: give --passphrase-file FILE "
                 f"(or --passphrase TEXT, or run in a terminal to be prompted)")


def cmd_hide(args) -> None:
  _check_output(args.out)
  cover = _read(args.cover, "cover")
  secrets = [_read(s, "secret") for s in args.secret]
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  passphrase = _passphrase_for(args, inference.load_config(args.workdir))
  run = inference.load_run(args.workdir)
  k = run.config.model.get("num_secrets", 1)
  if len(secrets) != k:
    raise CliError(f"this model hides {k} secret image(s); got {len(secrets)} --secret")
  _check_size(cover, f"cover {args.cover!r}")
  for i, s in enumerate(secrets):
    if s.shape[:2] != cover.shape[:2]:
      print(f"jaxsteg: note: secret {args.secret[i]} resized from {s.shape[1]}x{s.shape[0]} to the cover's "
            f"{cover.shape[1]}x{cover.shape[0]}", file=sys.stderr)
      secrets[i] = _resize_to(s, cover.shape[:2])
  container = run.task.hide_images(run.config, run.params, cover, np.stack(secrets), **passphrase)
  image_io.write_png(args.out, container)
  print(args.out)


def cmd_reveal(args) -> None:
  stego = _read(args.stego, "stego image")
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top
  passphrase = _passphrase_for(args, inference.load_config(args.workdir))
  run = inference.load_run(args.workdir)
  outs = _revealed_paths(args.out, run.config.model.get("num_secrets", 1))
  for o in outs:
    _check_output(o)
  _check_size(stego, f"stego image {args.stego!r}")
  revealed = run.task.reveal_images(run.config, run.params, stego, **passphrase)
  for o, img in zip(outs, revealed):
    image_io.write_png(o, img)
    print(o)


def _add_passphrase_options(p: argparse.ArgumentParser, reveal: bool = False) -> None:
  """--passphrase / --passphrase-file for KeyMixer models trained in passphrase key mode."""
  note = (" A wrong passphrase is not detected: the revealed image is then noise (image payloads carry no "
          "authentication tag)." if reveal else "")
  p.add_argument("--passphrase-file", default=None, metavar="FILE",
                 help="passphrase-mode models: a file holding the passphrase (one trailing newline ignored). "
                      "Without it or --passphrase you are prompted (not echoed) in a terminal." + note)
  p.add_argument("--passphrase", default=None, metavar="TEXT",
                 help="the passphrase on the command line (visible to other users in the process list and "
                      "kept in shell history: prefer --passphrase-file or the prompt)")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog="jaxsteg", description=__doc__.split("\n\n")[0])
  sub = parser.add_subparsers(dest="command", required=True)
  h = sub.add_parser("hide", help="hide secret image(s) in a cover; writes an 8-bit PNG container")
  h.add_argument("--workdir", required=True, help="a training run's workdir (its latest checkpoint is used)")
  h.add_argument("--cover", required=True, help="cover image (PNG, JPEG, ...)")
  h.add_argument("--secret", required=True, action="append", help="secret image; repeat for K-secret models")
  h.add_argument("--out", required=True, help="output container, .png")
  _add_passphrase_options(h)
  h.set_defaults(fn=cmd_hide)
  r = sub.add_parser("reveal", help="reveal the secret image(s) from a container")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--out", required=True, help="revealed image, .png (K-secret models: name_0.png, ...)")
  _add_passphrase_options(r, reveal=True)
  r.set_defaults(fn=cmd_reveal)
  # Other families' commands live in their own modules (they import CliError from here).
  from jaxsteg import cli_gan, cli_text  # pylint: disable=g-import-not-at-top,multiple-imports
  cli_text.add_commands(sub)
  cli_gan.add_commands(sub)
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
