"""Checks and helpers every `jaxsteg` command shares: output paths, image inputs, sizes, workdirs that hold the
right kind of model, passphrases. Each raises `errors.UserError` with a message that says what to do; the
command's entry point turns it into one stderr line and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import images as image_io

MAX_PIXELS = 4096 * 4096


def note(message: str) -> None:
  """A note for the user on stderr (mode conversions, resizing)."""
  print(f"jaxsteg: note: {message}", file=sys.stderr)


def check_output(path: str) -> None:
  """`path` can be written and is a .png file (a lossy format would destroy the hidden data)."""
  if os.path.isdir(path):
    raise errors.UserError(f"output {path!r} is a directory; give a file name ending in .png")
  directory = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(directory):
    raise errors.UserError(f"cannot write {path!r}: directory {directory!r} does not exist")
  if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
    raise errors.UserError(f"cannot write {path!r}: permission denied")
  if not path.lower().endswith(".png"):
    raise errors.UserError(f"output {path!r} must be a .png file (a lossy format would destroy the hidden data)")


def read_image(path: str, what: str) -> np.ndarray:
  """An image file as (H, W, 3) uint8 RGB, with a note when its mode was converted."""
  img, message = image_io.read_rgb(path, what=what)
  if message:
    note(message)
  return img


def check_size(img: np.ndarray, what: str) -> None:
  """Any size works (the task pads to its networks' multiple and crops back), up to a memory limit."""
  h, w = img.shape[:2]
  if h * w > MAX_PIXELS:
    raise errors.UserError(f"{what} is {w}x{h} pixels, more than this command handles ({MAX_PIXELS} pixels); "
                           f"downscale it first")


def resize_to(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  return np.asarray(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.LANCZOS))


def load_run(workdir: str, capability: type, needs: str):
  """The run in `workdir` (latest checkpoint, one device), refused unless its task has `capability`.

  `needs` completes the refusal, e.g. "text needs a bit-payload run (configs/bits_*.py)".
  """
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  run = inference.load_run(workdir)
  if not isinstance(tasks.get_task(run.config.task), capability):
    raise errors.UserError(f"workdir {workdir!r} holds a {run.config.task!r} model; {needs}")
  return run


# --- Passphrases -------------------------------------------------------------------------------------------

def add_passphrase_options(p: argparse.ArgumentParser, reveal: bool = False) -> None:
  """--passphrase / --passphrase-file for KeyMixer models trained in passphrase key mode."""
  note_text = (" A wrong passphrase is not detected: the revealed image is then noise (image payloads carry no "
               "authentication tag)." if reveal else "")
  p.add_argument("--passphrase-file", default=None, metavar="FILE",
                 help=f"passphrase-mode models: a file holding the passphrase ({files.PASSPHRASE_FILE_RULE}). "
                      "Without it or --passphrase you are prompted (not echoed) in a terminal." + note_text)
  p.add_argument("--passphrase", default=None, metavar="TEXT",
                 help="the passphrase on the command line (visible to other users in the process list and "
                      "kept in shell history: prefer --passphrase-file or the prompt)")


def passphrase_for(args, config) -> str | None:
  """The passphrase for a model that needs one (from --passphrase-file, --passphrase, or a prompt without
  echo in a terminal); None for one that takes none. Never prints the passphrase."""
  given = getattr(args, "passphrase", None)
  path = getattr(args, "passphrase_file", None)
  if given is not None and path is not None:
    raise errors.UserError("give either --passphrase or --passphrase-file, not both")
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  if not tasks.run_needs_passphrase(config):
    if given is not None or path is not None:
      raise errors.UserError(
          f"the model in {args.workdir!r} takes no passphrase (its key mode is "
          f"{config.get('model', {}).get('key_mode') or 'none'}); drop --passphrase/--passphrase-file")
    return None
  if path is not None:
    return files.read_passphrase_file(path)
  if given is not None:
    if not given:
      raise errors.UserError("--passphrase is empty; give the passphrase (or use --passphrase-file FILE)")
    return given
  if sys.stdin is not None and sys.stdin.isatty():
    import getpass  # pylint: disable=g-import-not-at-top
    try:
      text = getpass.getpass("jaxsteg: passphrase: ")
    except (EOFError, KeyboardInterrupt) as e:
      raise errors.UserError("no passphrase entered") from e
    if not text:
      raise errors.UserError("the passphrase is empty; enter the model's passphrase")
    return text
  raise errors.UserError(f"the model in {args.workdir!r} needs a passphrase: give --passphrase-file FILE "
                         f"(or --passphrase TEXT, or run in a terminal to be prompted)")
