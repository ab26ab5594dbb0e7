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
from jaxsteg import operations

# Shared with `jaxsteg serve` (`jaxsteg.operations`), named here for the commands.
MAX_PIXELS = operations.MAX_PIXELS
note = operations.note
check_size = operations.check_size
resize_to = operations.resize_to
enable_compilation_cache = operations.enable_compilation_cache
load_run = operations.load_run
check_passphrase_wanted = operations.check_passphrase_wanted


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


def check_not_inputs(outputs: dict[str, str | None], inputs: dict[str, str | None]) -> None:
  """No output is one of the inputs, or another output: the same path, or the same file through a symbolic or
  hard link (writing it would destroy the original). `outputs` and `inputs` map option names to paths."""
  def same(a: str, b: str) -> bool:
    if os.path.abspath(a) == os.path.abspath(b) or os.path.realpath(a) == os.path.realpath(b):
      return True
    try:
      return os.path.samefile(a, b)
    except OSError:   # One of them does not exist (yet): not the same file.
      return False

  outs = [(k, v) for k, v in outputs.items() if v]
  for i, (name, out) in enumerate(outs):
    for other, path in [(k, v) for k, v in inputs.items() if v] + outs[:i]:
      if same(out, path):
        raise errors.UserError(f"{name} {out!r} is the same file as {other} {path!r}; writing it would destroy "
                               f"it: give another {name}")


def read_image(path: str, what: str) -> np.ndarray:
  """An image file as (H, W, 3) uint8 RGB, with a note when its mode was converted. A file whose header claims
  more than MAX_PIXELS pixels is refused before it is decoded."""
  img, message = image_io.read_rgb(path, what=what, max_pixels=MAX_PIXELS)
  if message:
    note(message)
  return img


def add_step_option(p: argparse.ArgumentParser) -> None:
  p.add_argument("--step", type=int, default=None,
                 help="the checkpoint step to use (default: the latest; see the workdir's checkpoints/ folder)")


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
  if not check_passphrase_wanted(config, given is not None or path is not None, args.workdir,
                                 "drop --passphrase/--passphrase-file"):
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
