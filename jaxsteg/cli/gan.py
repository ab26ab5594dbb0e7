"""Keyed domain translation commands (`tasks.DomainCipher`, EncryptGAN): `jaxsteg keys`, `encrypt`, `decrypt`.

  jaxsteg keys    --workdir W --public-source y.png --public-out pub.png --private-source x.png --private-out priv.png
  jaxsteg encrypt --workdir W --cover x.png --message m.png --public-key pub.png [--private-key priv.png] --out d.png
  jaxsteg decrypt --workdir W --disguise disguise.png --private-key priv.png --out recovered.png [--message-out m.png]

The protocol of the paper: the public key image is K(y) of a Y-domain image, the private key image K(x) of the
cover itself (so derive it from the cover before encrypting). `encrypt` pastes the message at the cover's
centre (resized to the trained message/cover ratio, or --message-size) and writes the disguise; `decrypt`
recovers the cover with its message; --message-out also writes the centre region where the message was pasted.
Models trained with `model.private_key_to_encoder` (an [inf] variant: the encoder also sees K(x), which Alice
can compute since she holds the cover) need --private-key for `encrypt` too.
Keys are PNG files of the cover's size (another size is resized, with a note). User mistakes: one stderr line,
exit code 2, no output file.
"""

from __future__ import annotations

import numpy as np

from jaxsteg import errors
from jaxsteg import images as image_io
from jaxsteg.cli import common

NEEDS = "keys, encrypt and decrypt need an EncryptGAN run (configs/encryptgan_*.py)"


def _load(args):
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  return common.load_run(args.workdir, tasks.DomainCipher, NEEDS, args.step)


def _check_min(run, img: np.ndarray, what: str) -> None:
  common.check_size(img, what)
  side = run.task.min_image_side(run.config)
  if min(img.shape[:2]) < side:
    raise errors.UserError(f"{what} is {img.shape[1]}x{img.shape[0]} pixels; this model needs at least {side}x{side}")


def _key_for(key: np.ndarray, hw: tuple[int, int], path: str, what: str) -> np.ndarray:
  if key.shape[:2] != hw:
    common.note(f"{what} {path} resized from {key.shape[1]}x{key.shape[0]} to {hw[1]}x{hw[0]}")
    key = common.resize_to(key, hw)
  return key


def cmd_keys(args) -> None:
  pairs = [(s, o, w) for s, o, w in ((args.public_source, args.public_out, "public"),
                                     (args.private_source, args.private_out, "private")) if s or o]
  if not pairs:
    raise errors.UserError("give --public-source/--public-out and/or --private-source/--private-out")
  for source, out, what in pairs:
    if not (source and out):
      raise errors.UserError(f"--{what}-source and --{what}-out go together")
    common.check_output(out)
  if len(pairs) == 2 and pairs[0][1] == pairs[1][1]:
    raise errors.UserError("--public-out and --private-out name the same file")
  common.check_not_inputs({f"--{what}-out": out for _, out, what in pairs},
                          {f"--{what}-source": source for source, _, what in pairs})
  sources = [common.read_image(s, f"{what} key source") for s, _, what in pairs]
  run = _load(args)
  for img, (source, _, what) in zip(sources, pairs):
    _check_min(run, img, f"{what} key source {source!r}")
  keys = [run.task.key_from_image(run.config, run.params, img) for img in sources]
  for key, (_, out, _) in zip(keys, pairs):
    image_io.write_png(out, key)
    print(out)


def cmd_encrypt(args) -> None:
  common.check_output(args.out)
  common.check_not_inputs({"--out": args.out}, {"--cover": args.cover, "--message": args.message,
                                                "--public-key": args.public_key, "--private-key": args.private_key})
  if args.message_size is not None and args.message_size < 1:
    raise errors.UserError(f"--message-size must be a positive number of pixels, got {args.message_size}")
  cover = common.read_image(args.cover, "cover")
  message = common.read_image(args.message, "message")
  public = common.read_image(args.public_key, "public key")
  private = common.read_image(args.private_key, "private key") if args.private_key else None
  run = _load(args)
  needs_private = bool(run.config.model.get("private_key_to_encoder"))
  if needs_private and private is None:
    raise errors.UserError("this model's encoder also takes the private key (model.private_key_to_encoder): "
                   "give --private-key (the key image of this cover, from `jaxsteg keys`)")
  if private is not None and not needs_private:
    common.note("--private-key ignored: this model encrypts with the public key alone")
    private = None
  _check_min(run, cover, f"cover {args.cover!r}")
  side = args.message_size or run.task.message_side(run.config, cover.shape[:2])
  if side > min(cover.shape[:2]):
    raise errors.UserError(f"--message-size {side} does not fit in the {cover.shape[1]}x{cover.shape[0]} cover")
  public = _key_for(public, cover.shape[:2], args.public_key, "public key")
  if private is not None:
    private = _key_for(private, cover.shape[:2], args.private_key, "private key")
  pasted, (top, left) = run.task.paste_message(cover, message, side)
  disguise = run.task.encrypt_image(run.config, run.params, pasted, public, private)
  image_io.write_png(args.out, disguise)
  common.note(f"message pasted as {side}x{side} at row {top}, column {left}")
  print(args.out)


def cmd_decrypt(args) -> None:
  outs = [args.out] + ([args.message_out] if args.message_out else [])
  for o in outs:
    common.check_output(o)
  if args.message_out and args.message_out == args.out:
    raise errors.UserError("--out and --message-out name the same file")
  common.check_not_inputs({"--out": args.out, "--message-out": args.message_out},
                          {"--disguise": args.disguise, "--private-key": args.private_key})
  if args.message_size is not None and args.message_size < 1:
    raise errors.UserError(f"--message-size must be a positive number of pixels, got {args.message_size}")
  disguise = common.read_image(args.disguise, "disguise")
  private = common.read_image(args.private_key, "private key")
  run = _load(args)
  _check_min(run, disguise, f"disguise {args.disguise!r}")
  side = args.message_size or run.task.message_side(run.config, disguise.shape[:2])
  if side > min(disguise.shape[:2]):
    raise errors.UserError(f"--message-size {side} does not fit in the {disguise.shape[1]}x{disguise.shape[0]} image")
  private = _key_for(private, disguise.shape[:2], args.private_key, "private key")
  recovered = run.task.decrypt_image(run.config, run.params, disguise, private)
  image_io.write_png(args.out, recovered)
  print(args.out)
  if args.message_out:
    top, left = (recovered.shape[0] - side) // 2, (recovered.shape[1] - side) // 2
    image_io.write_png(args.message_out, recovered[top:top + side, left:left + side])
    print(args.message_out)


def add_commands(sub) -> None:
  """Adds this module's subcommands to the `jaxsteg` argument parser's subparsers."""
  k = sub.add_parser("keys", help="EncryptGAN: derive public/private key images from chosen images")
  k.add_argument("--workdir", required=True, help="an EncryptGAN training run's workdir")
  k.add_argument("--public-source", help="a Y-domain image; its key image is the public key")
  k.add_argument("--public-out", help="public key image, .png")
  k.add_argument("--private-source", help="the cover (X-domain image); its key image is the private key")
  k.add_argument("--private-out", help="private key image, .png")
  common.add_step_option(k)
  k.set_defaults(fn=cmd_keys)
  e = sub.add_parser("encrypt", help="EncryptGAN: paste a message on a cover and disguise it with a public key")
  e.add_argument("--workdir", required=True, help="an EncryptGAN training run's workdir")
  e.add_argument("--cover", required=True, help="cover image (X domain)")
  e.add_argument("--message", required=True, help="message image, pasted at the cover's centre")
  e.add_argument("--public-key", required=True, help="public key image (from `jaxsteg keys`)")
  e.add_argument("--private-key", help="private key image; only for models trained with "
                 "model.private_key_to_encoder")
  e.add_argument("--message-size", type=int, help="side of the pasted message in pixels (default: as trained)")
  e.add_argument("--out", required=True, help="output disguise, .png")
  common.add_step_option(e)
  e.set_defaults(fn=cmd_encrypt)
  d = sub.add_parser("decrypt", help="EncryptGAN: recover the cover and its message with the private key")
  d.add_argument("--workdir", required=True, help="the EncryptGAN workdir that made the disguise")
  d.add_argument("--disguise", required=True, help="the disguise PNG")
  d.add_argument("--private-key", required=True, help="private key image (from `jaxsteg keys`)")
  d.add_argument("--out", required=True, help="recovered cover with its message, .png")
  d.add_argument("--message-out", help="also write the centre message region, .png")
  d.add_argument("--message-size", type=int, help="side of the message region (default: as trained)")
  common.add_step_option(d)
  d.set_defaults(fn=cmd_decrypt)
