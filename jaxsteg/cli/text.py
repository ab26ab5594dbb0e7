"""Text payload commands: `jaxsteg hide-text` and `jaxsteg reveal-text`, for bit-payload models
(`tasks.BitChannel`, `configs/bits_*.py`).

  jaxsteg hide-text   --workdir W --cover c.png (--text T | --text-file F) [--passphrase-file P] --out stego.png
  jaxsteg reveal-text --workdir W --stego stego.png [--passphrase-file P] [--out message.txt]

hide-text plans the message for the highest bit error rate at which it still fits, embeds it (8-bit container
refined as the run's config says) and measures the bit error rate of that container: the message is kept only
when that rate, with the planning margin, is within what it was planned for (one refinement, not a probe and
then the message). The text comes back exactly or not at all: over capacity, a wrong
passphrase, a tampered container or a cover without a message each give one line on stderr and exit code 2.
hide-text decodes its own container before writing it, so a written file is known to be readable. With
`--survive jpeg:90` (any spec of `jaxsteg.attacks.distortions`) the error rate, the capacity and the read-back
are those after that distortion of the container.
"""

from __future__ import annotations

import os
import sys

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import images as image_io
from jaxsteg import operations
from jaxsteg.cli import common

NEEDS = operations.TEXT_NEEDS


def _passphrase(args) -> str | None:
  """The passphrase file's passphrase; None when no file was given (the text is then not encrypted)."""
  return files.read_passphrase_file(args.passphrase_file) if args.passphrase_file else None


def _load(args):
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  return common.load_run(args.workdir, tasks.BitChannel, NEEDS, args.step)


def cmd_hide_text(args) -> None:
  common.check_output(args.out)
  common.check_not_inputs({"--out": args.out}, {"--cover": args.cover, "--text-file": args.text_file,
                                                "--passphrase-file": args.passphrase_file})
  text = args.text if args.text is not None else files.read_text_file(args.text_file, "text file")
  passphrase = _passphrase(args)
  cover = common.read_image(args.cover, "cover")
  operations.survive_distortion(args.survive)   # A typo fails before the model loads.
  container = operations.hide_text(_load(args), cover, text, passphrase, args.cover, survive=args.survive)
  image_io.write_png(args.out, container)
  print(args.out)


def cmd_reveal_text(args) -> None:
  if args.out:
    if os.path.isdir(args.out) or not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
      raise errors.UserError(f"cannot write {args.out!r}: not a file in an existing directory")
    common.check_not_inputs({"--out": args.out}, {"--stego": args.stego, "--passphrase-file": args.passphrase_file})
  passphrase = _passphrase(args)
  stego = common.read_image(args.stego, "stego image")
  text = operations.reveal_text(_load(args), stego, passphrase, args.stego)
  if args.out:
    files.atomic_write(args.out, text)
    print(args.out)
  else:
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def add_commands(sub) -> None:
  """Adds hide-text and reveal-text to the `jaxsteg` argument parser's subparsers."""
  h = sub.add_parser("hide-text", help="hide UTF-8 text exactly (error-corrected, optionally encrypted)")
  h.add_argument("--workdir", required=True, help="a bit-payload run's workdir (configs/bits_*.py)")
  h.add_argument("--cover", required=True, help="cover image (PNG, JPEG, ...)")
  src = h.add_mutually_exclusive_group(required=True)
  src.add_argument("--text", help="the message")
  src.add_argument("--text-file", help="a UTF-8 file holding the message")
  h.add_argument("--passphrase-file",
                 help=f"encrypt (AES-256-GCM, scrypt key) with the passphrase in this file ({files.PASSPHRASE_FILE_RULE})")
  h.add_argument("--out", required=True, help="output container, .png")
  h.add_argument("--survive", default=None, metavar="SPEC",
                 help="plan the message to survive this distortion of the container, e.g. jpeg:90, noise:2, "
                      "resize:0.5 (the attack suite's real codecs): the capacity is the one measured after it, "
                      "and the container is read back through it before it is written")
  common.add_step_option(h)
  h.set_defaults(fn=cmd_hide_text)
  r = sub.add_parser("reveal-text", help="recover text hidden by hide-text, exactly, or fail clearly")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--passphrase-file", help="the passphrase file used when hiding (same rule as hide-text)")
  r.add_argument("--out", help="write the text to this file instead of standard output")
  common.add_step_option(r)
  r.set_defaults(fn=cmd_reveal_text)
