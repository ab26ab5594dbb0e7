"""The `jaxsteg` command: use a trained run on real image files.

  jaxsteg hide / reveal            images in images (`jaxsteg.cli.images`)
  jaxsteg hide-text / reveal-text  exact text in images (`jaxsteg.cli.text`)
  jaxsteg keys / encrypt / decrypt EncryptGAN's keyed disguises (`jaxsteg.cli.gan`)

Outputs are 8-bit PNGs (or text) written atomically. User mistakes (`errors.UserError`) get one line on
stderr and exit code 2, never a traceback or a partial file.
"""

from __future__ import annotations

from jaxsteg import errors
from jaxsteg.cli import parser as parser_lib


def main(argv: list[str] | None = None) -> int:
  args = parser_lib.build_parser().parse_args(argv)
  try:
    args.fn(args)
  except errors.UserError as e:
    return errors.report(e, "jaxsteg")
  return 0
