r"""Calibration of the CNN steganalysers against classical embedders: held-out accuracy, AUC and P_E.

  nice -n 10 python benchmarks/cnn_calibration.py --arch xunet --spec lsbm:1.0 [--steps N] [--lr LR] \
      [--train-pairs N] [--batch PAIRS] [--out runs/cnn_calibration]

Each (arch, spec) trains `configs/steganalysis_embedded.py` through the generic loop in OUT/<arch>_<spec>/ (a
fresh folder each time; an existing one is resumed) on 64×64 crops of the embedded training photographs and is
scored on the 142 held-out pairs of the held-out photographs. Prints one line per run and appends it to
OUT/results.jsonl (wall time includes making the pairs and the evaluation). A detector that cannot find LSB
matching at 1 bpp (`lsbm:1.0`) is broken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--arch", nargs="+", default=["xunet"], help="xunet srnet_slim srnet")
  p.add_argument("--spec", nargs="+", default=["lsbm:1.0"], help="hiders: lsbm:1.0 lsbm:0.4 hill:0.4 or workdirs")
  p.add_argument("--steps", type=int, default=0, help="training steps (0: the config's default)")
  p.add_argument("--lr", type=float, default=0.0, help="peak learning rate (0: the config's)")
  p.add_argument("--train-pairs", type=int, default=0, help="training pool (0: the config's)")
  p.add_argument("--batch", type=int, default=0, help="pairs per batch (0: the config's)")
  p.add_argument("--optim", default="", help="adam | adamw | adamax (empty: the config's)")
  p.add_argument("--high-pass", action="store_true", help="SRNets: start layer 1 from SRM high-pass kernels")
  p.add_argument("--cpu-devices", type=int, default=2)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--out", default="runs/cnn_calibration")
  return p.parse_args(argv)


def calibrate(arch: str, spec: str, args) -> dict:
  from configs import steganalysis_embedded  # pylint: disable=g-import-not-at-top
  from jaxsteg import train  # pylint: disable=g-import-not-at-top
  config = steganalysis_embedded.get_config(f"arch={arch}" + (f",steps={args.steps}" if args.steps else ""))
  config.hider.spec = spec
  config.seed = args.seed
  if args.lr:
    config.optim.learning_rate = args.lr
  if args.train_pairs:
    config.data.train_pairs = args.train_pairs
  if args.batch:
    config.batch_size = args.batch
  if args.optim:
    config.optim.name = args.optim
  if args.high_pass:
    config.model.high_pass_init = True
  workdir = os.path.join(args.out, f"{arch}_{spec.replace(':', '_').replace('/', '_')}")
  t = time.time()
  train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "eval", str(config.num_train_steps), "detection.json"), encoding="utf-8") as f:
    det = json.load(f)
  return {"arch": arch, "spec": spec, "steps": config.num_train_steps, "batch_pairs": config.batch_size,
          "lr": config.optim.learning_rate, "optim": config.optim.name,
          "high_pass_init": config.model.high_pass_init, "train_pairs": det["num_train_pairs"],
          "seconds": round(time.time() - t, 1), **{k: det[k] for k in det if k[:3] in ("acc", "auc", "p_e")},
          "workdir": workdir}


def main(argv=None) -> None:
  args = parse_args(argv)
  import jax  # pylint: disable=g-import-not-at-top
  if args.cpu_devices:
    jax.config.update("jax_num_cpu_devices", args.cpu_devices)
  os.makedirs(args.out, exist_ok=True)
  for arch in args.arch:
    for spec in args.spec:
      r = calibrate(arch, spec, args)
      print(f"{arch:10s} {spec:10s} steps={r['steps']} pairs={r['train_pairs']} acc={r['accuracy']:.3f} "
            f"[{r['accuracy_lo']:.3f}, {r['accuracy_hi']:.3f}] auc={r['auc']:.3f} p_e={r['p_e']:.3f} "
            f"{r['seconds']:.0f} s", flush=True)
      with open(os.path.join(args.out, "results.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
  main()
