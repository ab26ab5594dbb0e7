"""`jaxsteg benchmark`: every attack on every model, one report folder.

For each workdir (any family, by capability) and each classical baseline (`lsbm:0.4`, `hill:0.4`, ...), with the
same held-out images and seeds for all of them, so rows compare:
  1. steganalysis with the classical detectors (`evaluators.steganalysis`: SPAM / SRM + FLD ensemble or
     logistic regression, SPA / RS / WS), trained on pairs of the training photographs, scored on held-out ones;
  2. the CNN detectors (`tasks.steganalysis`: XuNet, slim SRNet, SRNet), each trained by the generic loop on
     the model's pairs (a workdir per detector under DIR/detectors/), scored on the same held-out pairs;
  3. robustness (`evaluators.robustness`, models only): the payload after every distortion of the container.
The folder is written under a temporary name and renamed when complete; an existing DIR is never overwritten.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from typing import Any

from absl import logging
import ml_collections

from jaxsteg import errors
from jaxsteg.benchmark import plots
from jaxsteg.benchmark import report as report_lib

DEFAULT_BASELINES = ("lsbm:0.4", "hill:0.4")
DEFAULT_CNN = ("xunet",)   # 91.5 % on lsbm:1.0 after 1200 steps (benchmarks/cnn_calibration.py).


def _quality(workdir: str, step: int) -> dict[str, float]:
  path = os.path.join(workdir, "eval", str(step), "metrics.json")
  if not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    return json.load(f)["metrics"]


def _cnn_config(spec: str, arch: str, steps: int, seed: int, size: int) -> ml_collections.ConfigDict:
  from configs import steganalysis_embedded  # pylint: disable=g-import-not-at-top
  config = steganalysis_embedded.get_config(f"arch={arch},steps={steps}")
  config.hider.spec = spec
  config.seed = seed
  config.data.size = size
  return config


def _cnn(spec: str, arch: str, steps: int, workdir: str, seed: int, size: int) -> dict[str, Any]:
  """Trains the CNN detector `arch` on the pairs of `spec` in `workdir`; its held-out detection numbers."""
  from jaxsteg import train  # pylint: disable=g-import-not-at-top
  config = _cnn_config(spec, arch, steps, seed, size)
  t = time.time()
  train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "eval", str(config.num_train_steps), "detection.json"), encoding="utf-8") as f:
    result = json.load(f)
  result["seconds"] = time.time() - t
  return result


TEXT_OPTIONS = ("text_bytes", "plan_for", "passphrase")   # Taken from a model's own robustness block.


def evaluate_source(spec: str, outdir: str, opts: dict) -> dict[str, Any]:
  """Every attack on one model or baseline; its entry of report.json."""
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  from jaxsteg.evaluators import robustness, steganalysis  # pylint: disable=g-import-not-at-top,multiple-imports
  from jaxsteg.tasks import steganalysis as detector_task  # pylint: disable=g-import-not-at-top
  t0 = time.time()
  size, seed = int(opts["size"]), int(opts["seed"])
  source = detector_task.source_of(spec, size)
  entry = dict(pairs.describe(source))
  logging.info("benchmark: %s (%s)", entry["name"], entry["kind"])
  # One pool of training pairs and one held-out set per source, made once: the classical detectors train on the
  # pool's first `train_pairs`, the CNN detectors on all of it (the same cache serves their training loop).
  stega_opts = dict(steganalysis.DEFAULTS, **opts["steganalysis"], size=size, seed=seed)
  pool = max([int(stega_opts["train_pairs"])] + [detector_task.num_train_pairs(
      _cnn_config(spec, arch, opts["cnn_steps"], seed, size)) for arch in opts["cnn"]])
  train = detector_task.hider_pairs(spec, size, "train", pool, seed)
  held_out = detector_task.hider_pairs(spec, size, "test", None, seed)
  entry["pair_seconds"] = time.time() - t0
  stega = steganalysis.analyse(source, stega_opts, train, held_out)
  entry["steganalysis"], entry["roc"] = dict(stega["detectors"]), dict(stega["roc"])
  entry["detection_curve"] = {"detector": stega.get("curve_detector"), "pairs": stega["curve"]}
  for arch in opts["cnn"]:
    det_dir = os.path.join(outdir, "detectors", entry["name"].replace(":", "_"), arch)
    res = _cnn(spec, arch, opts["cnn_steps"], det_dir, seed, size)
    entry["steganalysis"][arch] = {k: res[k] for k in res if k not in ("roc",)}
    if "roc" in res:
      entry["roc"][arch] = res["roc"]
  best = max(entry["steganalysis"], key=lambda d: entry["steganalysis"][d]["accuracy"])
  entry["steganalysis_best"] = {"detector": best, **{k: entry["steganalysis"][best][k]
                                                      for k in ("accuracy", "auc", "p_e")}}
  if isinstance(source, pairs.ModelSource):
    entry["quality"] = _quality(source.workdir, source.step)
    # The text a bit model is built for (its own `evals.robustness` text size and planning distortion, e.g.
    # 512 bytes planned for JPEG 90), else the suite's default; the distortions are the suite's for every model.
    own = source.config.get("evals", {}).get("robustness", {})
    rob_opts = dict(robustness.options(ml_collections.ConfigDict()))
    rob_opts.update({k: own[k] for k in TEXT_OPTIONS if k in own})
    rob_opts.update(opts["robustness"])
    entry["robustness_text"] = {k: rob_opts[k] for k in ("text_bytes", "plan_for")}
    result = robustness.analyse(source.task, source.config, source.params, source.task.eval_set(source.config),
                                rob_opts, source.key)
    entry["robustness"], entry["robustness_main_metric"] = result["distortions"], result["main_metric"]
    entry["_samples"] = (entry["name"], held_out.covers[::max(1, len(held_out.covers) // 3)],
                         held_out.containers[::max(1, len(held_out.containers) // 3)])
  entry["seconds"] = time.time() - t0
  return entry


def run(workdirs: list[str], baselines: list[str], out: str, opts: dict, command: str) -> dict:
  """The whole benchmark into the folder `out` (which must not exist yet). Returns report.json's content."""
  if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
    raise errors.UserError(f"output folder {out!r} exists; give a new folder (the report is never written over "
                           f"another)")
  parent = os.path.dirname(os.path.abspath(out))
  if not os.path.isdir(parent):
    raise errors.UserError(f"cannot write {out!r}: directory {parent!r} does not exist")
  t0 = time.time()
  tmp = os.path.join(parent, f".tmp-benchmark-{secrets.token_hex(6)}")
  os.mkdir(tmp)   # The umask's mode (tempfile.mkdtemp would make it 0700).
  try:
    models = [evaluate_source(w, tmp, opts) for w in workdirs]
    base = [evaluate_source(b, tmp, opts) for b in baselines]
    samples = [m.pop("_samples") for m in models if "_samples" in m]
    report = {"version": 1, "command": command, "options": opts, "models": models, "baselines": base,
              "description": (f"Held-out pairs of {opts['size']}x{opts['size']} crops of the embedded held-out "
                              f"photographs (detectors trained on crops of the training photographs); 8-bit "
                              f"containers; seed {opts['seed']}."), "plots": []}
    from jaxsteg.evaluators import robustness  # pylint: disable=g-import-not-at-top
    for kind in sorted({m["kind"] for m in models if m.get("robustness")}):
      name = f"robustness_{kind}.png"
      robustness.plot({m["name"]: {"distortions": m["robustness"], "main_metric": m["robustness_main_metric"]}
                       for m in models if m["kind"] == kind}, os.path.join(tmp, name))
      report["plots"].append(name)
    plots.roc_curves(models + base, os.path.join(tmp, "roc.png"))
    plots.detection_curves(models + base, os.path.join(tmp, "detection_vs_pairs.png"))
    report["plots"] += ["roc.png", "detection_vs_pairs.png"]
    if samples:
      report_lib.sample_strip(samples, os.path.join(tmp, "samples.png"))
      report["plots"].append("samples.png")
    report["seconds"] = time.time() - t0
    report_lib.write(report, tmp)
    if os.path.isdir(out):
      os.rmdir(out)   # Empty (checked above).
    os.replace(tmp, out)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return report
