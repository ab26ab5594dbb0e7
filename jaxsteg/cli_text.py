"""Text payload commands of the `jaxsteg` CLI (hide-text, reveal-text); registered by `jaxsteg.cli`.

  jaxsteg hide-text   --workdir W --cover c.png (--text T | --text-file F) [--passphrase-file P] --out stego.png
  jaxsteg reveal-text --workdir W --stego stego.png [--passphrase-file P] [--out message.txt]

The workdir must hold a bit-payload run (`configs/bits_*.py`). hide-text first measures the bit error rate
on this very cover (random bits in, 8-bit container refined as the run's config says, decoded) and sizes the
error correction to it (with a margin), so the capacity of a cover is known before anything is embedded. The text comes back exactly
or not at all:
over capacity, a wrong passphrase, a tampered container or a cover without a message each give one line on
stderr and exit code 2. hide-text decodes its own container before writing it, so a written file is known to
be readable.
"""

from __future__ import annotations

import os
import sys

from jaxsteg import images as image_io

def _cli():
  from jaxsteg import cli  # pylint: disable=g-import-not-at-top  (cli imports this module)
  return cli


def _read_text_file(path: str, what: str) -> str:
  if not os.path.exists(path):
    raise _cli().CliError(f"{what} {path!r} does not exist")
  if os.path.isdir(path):
    raise _cli().CliError(f"{what} {path!r} is a directory, not a file")
  try:
    with open(path, "rb") as f:
      data = f.read()
    return data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise _cli().CliError(f"{what} {path!r} is not UTF-8 text ({e})") from e
  except OSError as e:
    raise _cli().CliError(f"cannot read {what} {path!r}: {e.strerror}") from e


def _passphrase(args) -> str | None:
  """The passphrase file's content without its trailing line break; None when no file was given."""
  if not args.passphrase_file:
    return None
  text = _read_text_file(args.passphrase_file, "passphrase file").rstrip("\r\n")
  if not text:
    raise _cli().CliError(f"passphrase file {args.passphrase_file!r} is empty")
  return text


def _load_bits_run(workdir: str):
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  run = inference.load_run(workdir)
  if run.config.task != "bits":
    raise _cli().CliError(f"workdir {workdir!r} holds a {run.config.task!r} model, which hides images; "
                          f"text needs a bit-payload run (configs/bits_*.py)")
  return run


def _check_channels(run, cover):
  if run.config.data.channels == 1:
    from jaxsteg.data import datasets  # pylint: disable=g-import-not-at-top
    return datasets.to_rgb(cover, 1)
  return cover


def cmd_hide_text(args) -> None:
  cli = _cli()
  from jaxsteg.data import payloads  # pylint: disable=g-import-not-at-top
  cli._check_output(args.out)  # pylint: disable=protected-access
  text = args.text if args.text is not None else _read_text_file(args.text_file, "text file")
  passphrase = _passphrase(args)
  cover = cli._read(args.cover, "cover")  # pylint: disable=protected-access
  cli._check_size(cover, f"cover {args.cover!r}")  # pylint: disable=protected-access
  run = _load_bits_run(args.workdir)
  cover = _check_channels(run, cover)
  h, w = cover.shape[:2]
  depth = run.config.model.depth
  from jaxsteg.tasks import bits as bits_task  # pylint: disable=g-import-not-at-top
  fns = bits_task._host_fns(run.config)  # pylint: disable=protected-access
  # The capacity of this cover with this checkpoint: probe its bit error rate, plan with a margin.
  probed = bits_task.probe_ber(run.config, run.params, cover, fns)
  ber = bits_task.design_ber(probed)
  try:
    bits = payloads.encode_text(text, (h, w, depth), ber=ber, passphrase=passphrase)
  except payloads.PayloadTooLarge as e:
    raise cli.CliError(f"{e} ({w}x{h} pixels, {depth} bits per pixel, {probed:.2%} raw bit errors measured "
                       f"on it); shorten the text or use a larger or less busy cover") from e
  container = bits_task.hide_bits(run.config, run.params, cover, bits, fns)
  try:  # Read it back before writing anything: a written container is known to be readable.
    ok = payloads.decode_text(bits_task.reveal_logits(run.config, run.params, container, fns),
                              passphrase=passphrase) == text
  except payloads.PayloadError:
    ok = False
  if not ok:
    raise cli.CliError("this cover cannot carry the message reliably (too many bit errors on it); try "
                       "another cover, a larger one, or a shorter text")
  image_io.write_png(args.out, container[..., 0] if container.shape[-1] == 1 else container)
  print(args.out)


def cmd_reveal_text(args) -> None:
  cli = _cli()
  from jaxsteg.data import payloads  # pylint: disable=g-import-not-at-top
  if args.out:
    if os.path.isdir(args.out) or not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
      raise cli.CliError(f"cannot write {args.out!r}: not a file in an existing directory")
  passphrase = _passphrase(args)
  stego = cli._read(args.stego, "stego image")  # pylint: disable=protected-access
  cli._check_size(stego, f"stego image {args.stego!r}")  # pylint: disable=protected-access
  run = _load_bits_run(args.workdir)
  stego = _check_channels(run, stego)
  from jaxsteg.tasks import bits as bits_task  # pylint: disable=g-import-not-at-top
  logits = bits_task.reveal_logits(run.config, run.params, stego)
  try:
    text = payloads.decode_text(logits, passphrase=passphrase)
  except payloads.PassphraseRequired as e:
    raise cli.CliError(f"{e}: give --passphrase-file") from e
  except payloads.PayloadError as e:
    raise cli.CliError(str(e)) from e
  if args.out:
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
      f.write(text)
    os.replace(tmp, args.out)
    print(args.out)
  else:
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def add_commands(sub) -> None:
  """Adds this module's subcommands to the `jaxsteg` argument parser's subparsers."""
  h = sub.add_parser("hide-text", help="hide UTF-8 text exactly (error-corrected, optionally encrypted)")
  h.add_argument("--workdir", required=True, help="a bit-payload run's workdir (configs/bits_*.py)")
  h.add_argument("--cover", required=True, help="cover image (PNG, JPEG, ...)")
  src = h.add_mutually_exclusive_group(required=True)
  src.add_argument("--text", help="the message")
  src.add_argument("--text-file", help="a UTF-8 file holding the message")
  h.add_argument("--passphrase-file", help="encrypt (AES-256-GCM, scrypt key) with this file's first line")
  h.add_argument("--out", required=True, help="output container, .png")
  h.set_defaults(fn=cmd_hide_text)
  r = sub.add_parser("reveal-text", help="recover text hidden by hide-text, exactly, or fail clearly")
  r.add_argument("--workdir", required=True, help="the workdir whose model made the container")
  r.add_argument("--stego", required=True, help="the container PNG")
  r.add_argument("--passphrase-file", help="the passphrase file used when hiding")
  r.add_argument("--out", help="write the text to this file instead of standard output")
  r.set_defaults(fn=cmd_reveal_text)
