#!/usr/bin/env python3
"""Expand a config's `sweep()` into one command line per point (print them; run them however you like).

  python launch/sweep.py configs/deepstego_embedded.py[:args] --root runs/sweep
  python launch/sweep.py configs/deepstego_embedded.py --root gs://B/runs --prefix "launch/tpu_pod.sh train TPU ZONE"
  python launch/sweep.py configs/deepstego_embedded.py --root runs/sweep | xargs -P1 -I{} sh -c '{}'

A config opts in with a module-level `sweep()` returning a list of {dotted config key: value}. Every key is
checked against the config before anything is printed. Each point gets its own workdir, ROOT/<key=value,...>.
With the default prefix the lines call `python -m jaxsteg.main`; a launch script prefix (local.sh, gpu.sh,
tpu_pod.sh train TPU ZONE) gets CONFIG WORKDIR as its first two arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import sys

DEFAULT_PREFIX = "python -m jaxsteg.main"


class SweepError(Exception):
  """A problem with the config's sweep; the message says what."""


def load_module(path: str):
  if not os.path.isfile(path):
    raise SweepError(f"config file {path!r} does not exist")
  root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
  if root not in sys.path:
    sys.path.insert(0, root)   # Configs import `configs.common`.
  spec = importlib.util.spec_from_file_location(f"_sweep_config_{os.getpid()}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _check_key(config, key: str) -> None:
  node = config
  for part in key.split("."):
    if not hasattr(node, "keys") or part not in node:
      raise SweepError(f"sweep key {key!r} is not a field of the config")
    node = node[part]


def _fmt(value) -> str:
  return str(value).lower() if isinstance(value, bool) else str(value)


def expand(config_arg: str, root: str, prefix: str = DEFAULT_PREFIX) -> list[str]:
  """The command lines of every sweep point of `config_arg` (a path, optionally with ':args')."""
  path, _, arg = config_arg.partition(":")
  module = load_module(path)
  if not hasattr(module, "sweep"):
    raise SweepError(f"{path} defines no sweep(); add one returning a list of {{'dotted.key': value}}")
  config = module.get_config(arg or None)
  points = module.sweep()
  lines = []
  for point in points:
    for key in point:
      _check_key(config, key)
    name = ",".join(f"{k.rsplit('.', 1)[-1]}={_fmt(v)}" for k, v in point.items()) or "default"
    workdir = f"{root.rstrip('/')}/{name}"
    overrides = [f"--config.{k}={_fmt(v)}" for k, v in point.items()]
    if prefix == DEFAULT_PREFIX:
      words = shlex.split(prefix) + ["--config", config_arg, "--workdir", workdir] + overrides
    else:
      words = shlex.split(prefix) + [config_arg, workdir] + overrides
    lines.append(shlex.join(words))
  return lines


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("config", help="config file, optionally with :args")
  parser.add_argument("--root", required=True, help="parent directory of the sweep's workdirs")
  parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="command before the config and workdir")
  args = parser.parse_args(argv)
  try:
    lines = expand(args.config, args.root, args.prefix)
  except SweepError as e:
    print(f"sweep: error: {e}", file=sys.stderr)
    return 2
  print("\n".join(lines))
  return 0


if __name__ == "__main__":
  sys.exit(main())
