"""Text payload commands: `jaxsteg hide-text` and `jaxsteg reveal-text`, for bit-payload models
(`tasks.BitChannel`, `configs/bits_*.py`).

  jaxsteg hide-text   --workdir W --cover c.png (--text T | --text-file F) [--passphrase-file P] --out stego.png
  jaxsteg reveal-text --workdir W --stego stego.png [--passphrase-file P] [--out message.txt]

hide-text first measures the bit error rate on this very cover (random bits in, 8-bit container refined as the
run's config says, decoded) and sizes the error correction to it (with a margin), so the capacity of a cover is
known before anything is embedded. The text comes back exactly or not at all: over capacity, a wrong
passphrase, a tampered container or a cover without a message each give one line on stderr and exit code 2.
hide-text decodes its own container before writing it, so a written file is known to be readable.
"""

from __future__ import annotations

import os
import sys

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import images as image_io
from jaxsteg.cli import common

NEEDS = "text needs a bit-payload run (configs/bits_*.py)"


def _passphrase(args) -> str | None:
  """The passphrase file's passphrase; None when no file was given (the text is then not encrypted)."""
  return files.read_passphrase_file(args.passphrase_file) if args.passphrase_file else None


def _load(workdir: str):
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  return common.load_run(workdir, tasks.BitChannel, NEEDS)


def _check_channels(run, cover):
  if run.config.data.channels == 1:
    from jaxsteg.data import datasets  # pylint: disable=g-import-not-at-top
    return datasets.to_rgb(cover, 1)
  return cover


def cmd_hide_text(args) -> None:
  from jaxsteg.payload import channel, codec  # pylint: disable=g-import-not-at-top,multiple-imports
  common.check_output(args.out)
  text = args.text if args.text is not None else files.read_text_file(args.text_file, "text file")
  passphrase = _passphrase(args)
  cover = common.read_image(args.cover, "cover")
  common.check_size(cover, f"cover {args.cover!r}")
  run = _load(args.workdir)
  cover = _check_channels(run, cover)
  h, w = cover.shape[:2]
  depth = run.task.bit_depth(run.config)
  fns = channel.host_channel(run.config)
  # The capacity of this cover with this checkpoint: probe its bit error rate, plan with a margin.
  probed = channel.probe_ber(run.config, run.params, cover, fns)
  ber = channel.design_ber(probed)
  try:
    bits = codec.encode_text(text, (h, w, depth), ber=ber, passphrase=passphrase)
  except codec.PayloadTooLarge as e:
    raise errors.UserError(f"{e} ({w}x{h} pixels, {depth} bits per pixel, {probed:.2%} raw bit errors measured "
                           f"on it); shorten the text or use a larger or less busy cover") from e
  container = channel.hide_bits(run.config, run.params, cover, bits, fns)
  try:  # Read it back before writing anything: a written container is known to be readable.
    ok = codec.decode_text(channel.reveal_logits(run.config, run.params, container, fns),
                           passphrase=passphrase) == text
  except codec.PayloadError:
    ok = False
  if not ok:
    raise errors.UserError("this cover cannot carry the message reliably (too many bit errors on it); try "
                           "another cover, a larger one, or a shorter text")
  image_io.write_png(args.out, container[..., 0] if container.shape[-1] == 1 else container)
  print(args.out)


def cmd_reveal_text(args) -> None:
  from jaxsteg.payload import channel, codec  # pylint: disable=g-import-not-at-top,multiple-imports
  if args.out:
    if os.path.isdir(args.out) or not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
      raise errors.UserError(f"cannot write {args.out!r}: not a file in an existing directory")
  passphrase = _passphrase(args)
  stego = common.read_image(args.stego, "stego image")
  common.check_size(stego, f"stego image {args.stego!r}")
  run = _load(args.workdir)
  stego = _check_channels(run, stego)
  logits = channel.reveal_logits(run.config, run.params, stego)
  try:
    text = codec.decode_text(logits, passphrase=passphrase)
  except codec.PassphraseRequired as e:
    raise errors.UserError(f"{e}: give --passphrase-file") from e
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
  h.set_defaults(fn=cmd_hide_text)
  r = sub.add_parser("reveal-text", help="recover text hidden by hide-text, exactly, or fail clearly")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--passphrase-file", help="the passphrase file used when hiding (same rule as hide-text)")
  r.add_argument("--out", help="write the text to this file instead of standard output")
  r.set_defaults(fn=cmd_reveal_text)
