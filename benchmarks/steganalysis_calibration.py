r"""Calibration of the classical steganalysis detectors against classical embedders: held-out accuracy, AUC, P_E.

  nice -n 10 python benchmarks/steganalysis_calibration.py [--sources lsbm:1.0 lsbm:0.4 hill:0.4 lsbr:0.4] \
      [--detectors spam+logreg spam+fld_ensemble srmq1+fld_ensemble spa rs ws] [--train_pairs 1000] [--out f.json]

Each source (`jaxsteg.attacks.pairs`: `lsbr|lsbm|hill:RATE`, RATE in bits per channel value) gives 1000 (cover,
stego) pairs of random 64×64 crops of the embedded training photographs to train on and the fixed 142 pairs of the
held-out photographs' grid to score on, through `jaxsteg.evaluators.steganalysis.analyse` (the evaluator the
benchmark runs, so the numbers are the benchmark's). Prints one row per (source, detector): accuracy at the
detector's own threshold with its 95 % bootstrap interval, AUC, P_E, the accuracy on each held-out photograph and
seconds (training and scoring; the
feature extraction of a feature set is counted in the first detector that uses it), then each source's total
(wall-clock and this process's CPU time: on a shared machine the CPU time is the steadier measure).
A detector that cannot find LSB matching at 1 bpp is broken; the issue asks SPAM ≥ 85 % on lsbm:0.4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SOURCES = ("lsbm:1.0", "lsbm:0.4", "hill:0.4", "lsbr:0.4")
DETECTORS = ("spam+logreg", "spam+fld_ensemble", "srmq1+logreg", "srmq1+fld_ensemble", "spa", "rs", "ws")


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--sources", nargs="+", default=list(SOURCES), help="classical embedders (or workdirs)")
  p.add_argument("--detectors", nargs="+", default=list(DETECTORS))
  p.add_argument("--train_pairs", type=int, default=1000)
  p.add_argument("--size", type=int, default=64, help="crop side")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--out", default="", help="write the results as JSON here")
  return p.parse_args(argv)


def row(source: str, det: str, m: dict) -> str:
  photos = " ".join(f"{v:.2f}" for v in m.get("accuracy_by_photo", {}).values())
  return (f"| {source:9s} | {det:20s} | {m['accuracy']:.3f} [{m['accuracy_lo']:.3f}, {m['accuracy_hi']:.3f}] | "
          f"{m['auc']:.3f} | {m['p_e']:.3f} | {photos} | {m['seconds']:6.1f} |")


def main(argv=None) -> int:
  args = parse_args(argv)
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  from jaxsteg.evaluators import steganalysis  # pylint: disable=g-import-not-at-top
  for det in args.detectors:
    steganalysis.parse(det)
  opts = dict(steganalysis.DEFAULTS, detectors=tuple(args.detectors), train_pairs=args.train_pairs, curve=(),
              size=args.size, seed=args.seed)
  results = {}
  from jaxsteg.data import embedded  # pylint: disable=g-import-not-at-top
  print(f"| source    | detector             | accuracy [95 % CI]    | AUC   | P_E   | by photo "
        f"({', '.join(embedded.TEST_IMAGES)}) | s      |")
  print("|-----------|----------------------|-----------------------|-------|-------|---|--------|")
  for spec in args.sources:
    t0, c0 = time.time(), time.process_time()
    result = steganalysis.analyse(pairs.source(spec, size=args.size), opts)
    result.pop("roc", None)
    result["total_seconds"], result["cpu_seconds"] = time.time() - t0, time.process_time() - c0
    results[spec] = result
    for det, m in result["detectors"].items():
      print(row(spec, det, m), flush=True)
    print(f"| {spec:9s} | total (pairs, features, all detectors) | {result['total_seconds']:.1f} s wall, "
          f"{result['cpu_seconds']:.1f} s CPU |", flush=True)
  if args.out:
    with open(args.out, "w") as f:
      json.dump({"train_pairs": args.train_pairs, "size": args.size, "seed": args.seed, "results": results}, f,
                indent=2)
      f.write("\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
