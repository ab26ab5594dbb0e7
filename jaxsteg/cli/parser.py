"""The `jaxsteg` command's argument parser: one subcommand group per module of `jaxsteg.cli`."""

from __future__ import annotations

import argparse

from jaxsteg.cli import benchmark
from jaxsteg.cli import gan
from jaxsteg.cli import images
from jaxsteg.cli import serve
from jaxsteg.cli import text

DESCRIPTION = "The `jaxsteg` command: use a trained run on real image files."


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog="jaxsteg", description=DESCRIPTION)
  sub = parser.add_subparsers(dest="command", required=True)
  for group in (images, text, gan, benchmark, serve):
    group.add_commands(sub)
  return parser
