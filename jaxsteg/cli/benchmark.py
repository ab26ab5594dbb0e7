"""`jaxsteg benchmark`: every attack on every model, one report folder.

  jaxsteg benchmark --workdir W [--workdir W2 ...] [--baseline lsbm:0.4 ...] --out DIR

For each workdir (any family) and classical baseline: classical and CNN steganalysis on held-out pairs split
by photograph, and (models) the payload after every real distortion. DIR gets report.md, report.json,
report.html (self-contained), the plots, and detectors/ (the CNN detectors' workdirs).
"""

from __future__ import annotations

import os
import shlex
import sys

from jaxsteg import errors

QUICK = {"train_pairs": 200, "curve": (50, 100), "cnn_steps": 40, "max_images": 12}


def cmd_benchmark(args) -> None:
  if not args.workdir and not args.baseline:
    raise errors.UserError("give at least one --workdir or --baseline to benchmark")
  names = {}
  for w in args.workdir:
    if not os.path.isdir(w):
      raise errors.UserError(f"workdir {w!r} " + ("is a file, not a run's folder" if os.path.exists(w)
                                                   else "does not exist"))
    # The report and detectors/ name each model by its folder's name: two alike would overwrite each other.
    name = os.path.basename(os.path.normpath(w))
    if name in names:
      raise errors.UserError(f"workdirs {names[name]!r} and {w!r} have the same name {name!r}; the report names "
                             f"models by it: give each workdir once, under distinct names")
    names[name] = w
  if len(set(args.baseline)) < len(args.baseline):
    raise errors.UserError("a --baseline is given twice; give each once")
  if args.cnn_steps < 1 or args.train_pairs < 2:
    raise errors.UserError("--cnn-steps must be at least 1 and --train-pairs at least 2")
  import jax  # pylint: disable=g-import-not-at-top  (after the argument checks: slow to import)
  from jaxsteg import operations  # pylint: disable=g-import-not-at-top
  operations.enable_compilation_cache()   # Every CNN detector after the first loads its programs from disk.
  if args.cpu_devices and jax.config.jax_num_cpu_devices != args.cpu_devices:
    try:
      jax.config.update("jax_num_cpu_devices", args.cpu_devices)   # CNN detectors: one device per core.
    except RuntimeError:   # JAX already started in this process (called from Python): keep its devices.
      pass
  from jaxsteg.benchmark import suite  # pylint: disable=g-import-not-at-top
  quick = QUICK if args.quick else {}
  opts = {
      "size": args.size, "seed": args.seed, "cnn": tuple(args.cnn), "cnn_steps": quick.get("cnn_steps", args.cnn_steps),
      "steganalysis": {"train_pairs": quick.get("train_pairs", args.train_pairs),
                       "curve": quick.get("curve", tuple(n for n in (125, 250, 500) if n < args.train_pairs))},
      "robustness": {"max_images": quick.get("max_images", args.max_images)},
  }
  if args.detectors:
    opts["steganalysis"]["detectors"] = tuple(args.detectors)
  command = "jaxsteg " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["benchmark"] else (
      "jaxsteg benchmark ...")
  report = suite.run(list(args.workdir), list(args.baseline), args.out, opts, command)
  print(os.path.join(args.out, "report.md"))
  print(f"{len(report['models'])} models, {len(report['baselines'])} baselines in {report['seconds'] / 60:.1f} min")


def add_commands(sub) -> None:
  from jaxsteg.benchmark import suite  # pylint: disable=g-import-not-at-top
  b = sub.add_parser("benchmark", help="steganalysis and robustness of trained models (and classical baselines): "
                                       "one report folder")
  b.add_argument("--workdir", action="append", default=[], help="a training run's workdir (repeat for several)")
  b.add_argument("--baseline", action="append", default=None,
                 help=f"classical embedder METHOD:RATE (lsbr, lsbm, hill; repeat); default: "
                      f"{' '.join(suite.DEFAULT_BASELINES)}; --baseline none for none")
  b.add_argument("--out", required=True, help="the report folder (must not exist yet)")
  b.add_argument("--cnn", action="append", default=None,
                 help=f"CNN detectors to train per model (xunet, srnet_slim, srnet; repeat; default "
                      f"{' '.join(suite.DEFAULT_CNN)}; --cnn none for none)")
  b.add_argument("--cnn-steps", type=int, default=1200, help="training steps of each CNN detector")
  b.add_argument("--detectors", nargs="*", default=None,
                 help="classical detectors, FEATURES+CLASSIFIER (features spam, spam_pooled, srmq1, srm; "
                      "classifiers logreg, fld_ensemble) or a structural attack spa, rs, ws (default: "
                      "spam+logreg spam_pooled+fld_ensemble spa rs ws)")
  b.add_argument("--train-pairs", type=int, default=1000, help="training pairs of the classical detectors")
  b.add_argument("--max-images", type=int, default=0, help="held-out images in the robustness curves (0: all)")
  b.add_argument("--size", type=int, default=64, help="crop side of the steganalysis pairs")
  b.add_argument("--seed", type=int, default=0)
  b.add_argument("--cpu-devices", type=int, default=min(os.cpu_count() or 1, 8),
                 help="on a CPU host, split it into this many devices (CNN detectors train data-parallel)")
  b.add_argument("--quick", action="store_true", help="a smoke run: few pairs, few steps (numbers mean little)")
  b.set_defaults(fn=_run)


def _run(args) -> None:
  from jaxsteg.benchmark import suite  # pylint: disable=g-import-not-at-top
  args.baseline = [] if args.baseline == ["none"] else (args.baseline or list(suite.DEFAULT_BASELINES))
  args.cnn = [] if args.cnn == ["none"] else (args.cnn or list(suite.DEFAULT_CNN))
  cmd_benchmark(args)
