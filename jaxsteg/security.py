"""`python -m jaxsteg.security`: the security report of any checkpoint that hides images.

  python -m jaxsteg.security --workdir W [--step N] [--passphrase-file F] [--num-wrong-keys 20] [--max-images 16]

writes W/eval/<step>/security/ (the `security` evaluator, `jaxsteg.evaluators.security`: histograms, entropy,
correlation, NPCR/UACI, and for keyed models key sensitivity and wrong-key recovery). The options default to
the run's `config.evals.security` block (or, for runs trained before it existed, their `config.security`).
Unkeyed models (deepstego) are analysed too; their keyed statistics read "n/a".
"""

from __future__ import annotations

import argparse
import os
import sys

import ml_collections

from jaxsteg import errors
from jaxsteg import files


def _security_options(config) -> ml_collections.ConfigDict:
  """The run's security options: `evals.security`, else a legacy `security` block, else the defaults."""
  from jaxsteg.evaluators import security  # pylint: disable=g-import-not-at-top
  given = (config.get("evals") or {}).get("security") or config.get("security") or {}
  opts = dict(security.DEFAULTS, **{k: v for k, v in dict(given).items() if k in security.DEFAULTS})
  return ml_collections.ConfigDict(opts)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxsteg.security", description=__doc__.split("\n\n")[0])
  parser.add_argument("--workdir", required=True, help="a training run's workdir")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: latest)")
  parser.add_argument("--passphrase-file", default=None,
                      help="passphrase-mode models: the right passphrase (default: a built-in analysis one); "
                           f"{files.PASSPHRASE_FILE_RULE}")
  parser.add_argument("--num-wrong-keys", type=int, default=None, help="wrong keys tried (default: config, 20)")
  parser.add_argument("--max-images", type=int, default=None, help="held-out images analysed (0: all)")
  args = parser.parse_args(argv)
  try:
    if args.num_wrong_keys is not None and args.num_wrong_keys < 1:
      raise errors.UserError("--num-wrong-keys must be at least 1")
    from jaxsteg import inference, tasks  # pylint: disable=g-import-not-at-top,multiple-imports
    config = inference.load_config(args.workdir)
    if args.passphrase_file and not tasks.run_needs_passphrase(config):
      raise errors.UserError(f"the {config.get('task')!r} model in {args.workdir!r} takes no passphrase; "
                             f"run without --passphrase-file")
    passphrase = files.read_passphrase_file(args.passphrase_file) if args.passphrase_file else None
    run = inference.load_run(args.workdir, args.step)
    config = run.config
    tasks.require(run.task, tasks.ImageHider, "the security report")
    opts = _security_options(config)
    if args.num_wrong_keys is not None:
      opts.num_wrong_keys = args.num_wrong_keys
    if args.max_images is not None:
      opts.max_images = args.max_images
    with config.unlocked():
      config.evals = ml_collections.ConfigDict({"security": opts})
    from jaxsteg.evaluators import security  # pylint: disable=g-import-not-at-top
    outdir = os.path.join(args.workdir, "eval", str(run.step), "security")
    means = security.analyse(config, run.task, run.params, run.task.eval_set(config), outdir,
                             passphrase=passphrase, step=run.step)
  except errors.UserError as e:
    return errors.report(e, "jaxsteg.security")
  print(outdir)
  for k, v in means.items():
    print(f"  {k}: {v:.4f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
