"""Held-out detection numbers of a trained detector (the `steganalysis` task): accuracy, AUC, P_E, ROC.

The detector scores every held-out pair of its task's evaluation set (a cover and its own container, crops of
the held-out photographs only, 8-bit); `attacks.detection.summarize` gives accuracy at the detector's own
threshold (logit 0), AUC and P_E with 95 % bootstrap intervals over pairs. The scoring is jitted and sharded
over the setup's mesh like training (padded last batch, masked).

Files: detection.json = the summary, plus "roc": {"false_alarm": [...], "detection": [...]},
"num_train_pairs" (the detector's training pool), the detector, the hider and the step.
Metrics: detect/accuracy, detect/auc, detect/p_e. Options (`config.evals.detection`): num_bootstrap.
A task qualifies by defining `detector_scores(config, state, batch)` and `detector_info(config)`.
"""

from __future__ import annotations

import json
import os

import jax
import numpy as np

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import sharding
from jaxsteg import tasks
from jaxsteg.data import pipeline
from jaxsteg.evaluators import common

CAPABILITY = None   # Checked by `check`: the task must be a detector (it is no hider capability).


def _require_detector(task) -> None:
  if not (callable(getattr(task, "detector_scores", None)) and callable(getattr(task, "detector_info", None))):
    raise errors.ConfigError(f"evaluator 'detection' (config.evals.detection) needs a detector task such as "
                             f"'steganalysis'; task {task.__name__.rsplit('.', 1)[-1]!r} is not one")


def check(config) -> None:
  """The task is a detector and its config is sound (its hider exists): before any training."""
  task = tasks.get_task(config.task)
  _require_detector(task)
  task.detector_info(config)
  if int(common.options(config, "detection").get("num_bootstrap", 1000)) < 0:
    raise errors.ConfigError("config.evals.detection.num_bootstrap must be >= 0")


def score_function(config, setup):
  """Jitted, sharded (state, batch) -> (cover scores, container scores, mask), replicated; built once."""

  def build():
    def fn(state, batch):
      cover, container = setup.task.detector_scores(config, state, batch)
      return cover, container, batch["mask"]
    repl = sharding.replicated(setup.mesh)
    return jax.jit(fn, in_shardings=(setup.state_sharding, setup.batch_sharding), out_shardings=(repl,) * 3)

  return setup.cached(("detection.score_function", config.to_json_best_effort(sort_keys=True)), build)


def scores(config, setup, state, eval_set) -> tuple[np.ndarray, np.ndarray]:
  """(cover scores (N,), container scores (N,)) of every held-out pair, in the set's order."""
  global_batch = config.eval.batch_size
  sharding.check_batch_size(global_batch, setup.mesh)
  fn = score_function(config, setup)
  covers, containers = [], []
  for local in pipeline.eval_batches(eval_set, global_batch):
    c, s, mask = jax.device_get(fn(state, sharding.to_global(local, setup.batch_sharding)))
    keep = np.asarray(mask) > 0.5
    covers.append(np.asarray(c, np.float64)[keep])
    containers.append(np.asarray(s, np.float64)[keep])
  return np.concatenate(covers), np.concatenate(containers)


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  from jaxsteg.attacks import detection  # pylint: disable=g-import-not-at-top
  _require_detector(setup.task)
  cover, container = scores(config, setup, state, eval_set)
  opts = common.options(config, "detection")
  result = detection.summarize(cover, container, num_bootstrap=int(opts.get("num_bootstrap", 1000)),
                               seed=int(config.seed))
  fa, dr = detection.roc(cover, container)
  info = setup.task.detector_info(config)
  result.update(roc={"false_alarm": fa.tolist(), "detection": dr.tolist()},
                num_train_pairs=int(info.pop("num_train_pairs")), step=common.step_of(state), **info)
  if jax.process_index() == 0:
    files.atomic_write(os.path.join(os.fspath(outdir), "detection.json"), json.dumps(result, indent=2) + "\n")
  return {f"detect/{k}": float(result[k]) for k in ("accuracy", "auc", "p_e")}
