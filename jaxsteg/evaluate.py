"""Evaluation: run the config's evaluators (`config.evals`, see `jaxsteg.evaluators.common`) on a state and
write the results; restore a checkpoint (latest, given, or each new one) to evaluate it.

Outputs in the eval folder: metrics.json (every evaluator's numbers), results.md (a markdown table), and what
the evaluators write themselves (grid.png from `heldout`, security/ from `security`, ...).
"""

from __future__ import annotations

import json
import time
from typing import Any

from absl import logging
from etils import epath
import jax
import ml_collections

from jaxsteg import checkpoint
from jaxsteg import files
from jaxsteg import setup as setup_lib
from jaxsteg import tasks
from jaxsteg import writers
from jaxsteg.evaluators import common as evaluators


def check(config: ml_collections.ConfigDict) -> None:
  """Fails at once (`errors.ConfigError`) when an evaluator of `config` cannot run (unknown name, a task
  without the capability it needs, a missing weight file): before training, not after it."""
  evaluators.from_config(config, tasks.get_task(config.task))


def evaluate_state(config: ml_collections.ConfigDict, setup: setup_lib.Setup, state: Any,
                   outdir: str | epath.Path) -> dict[str, float]:
  """Evaluates `state` with every evaluator of `config` on the task's held-out set; process 0 writes the files
  in `outdir`. Returns the merged metrics."""
  t0 = time.time()
  outdir = epath.Path(outdir)
  if jax.process_index() == 0:
    outdir.mkdir(parents=True, exist_ok=True)
  eval_set = setup.task.eval_set(config)
  means = evaluators.run_all(config, setup, state, eval_set, outdir)
  if jax.process_index() == 0:
    step = int(jax.device_get(state["step"]))
    write_results(config, outdir, step, eval_set.length, means)
    logging.info("Eval at step %d on %d images (%.1fs): %s", step, eval_set.length, time.time() - t0,
                 ", ".join(f"{k}={v:.4g}" for k, v in means.items()))
  return means


def write_results(config, outdir, step: int, num_examples: int, means: dict[str, float]) -> None:
  outdir = epath.Path(outdir)
  outdir.mkdir(parents=True, exist_ok=True)
  record = {
      "step": step,
      "num_examples": num_examples,
      "task": config.task,
      "data": {"cover": config.data.cover, "secret": config.data.get("secret"),
               "eval_size": config.data.get("eval_size")},
      "containers": "8-bit rounded",
      "metrics": means,
  }
  files.atomic_write(outdir / "metrics.json", json.dumps(record, indent=2) + "\n")
  rows = [f"| {k} | {v:.4f} |" for k, v in means.items()]
  table = (f"Evaluation of `{config.task}` at step {step} on {num_examples} held-out images "
           f"(8-bit containers, per-image mean)\n\n| metric | value |\n|---|---|\n" + "\n".join(rows) + "\n")
  files.atomic_write(outdir / "results.md", table)


def run_eval(config: ml_collections.ConfigDict, workdir: str, step: int | None = None) -> dict[str, float]:
  """Restores `step` (latest if None) of `workdir` and evaluates it into workdir/eval/<step>/.

  The state is restored onto this job's mesh, whatever device count training used.
  """
  check(config)
  setup = setup_lib.eval_setup(config)
  ckpt = checkpoint.Checkpointer(epath.Path(workdir) / "checkpoints", async_save=False)
  try:
    state, _ = ckpt.restore(step, setup.abstract_state)
  finally:
    ckpt.close()
  step = int(jax.device_get(state["step"]))
  with jax.set_mesh(setup.mesh):
    return evaluate_state(config, setup, state, epath.Path(workdir) / "eval" / str(step))


def watch(config: ml_collections.ConfigDict, workdir: str, *, poll_seconds: float = 30.0,
          timeout_seconds: float = 3600.0) -> dict[str, float]:
  """Evaluates every checkpoint of `workdir` as it appears (an evaluator job beside training).

  Checkpoints already evaluated (eval/<step>/metrics.json exists) are skipped, so a restarted evaluator picks
  up where it stopped. Returns after evaluating the final step (`num_train_steps`), or when no new checkpoint
  has appeared for `timeout_seconds`. Scalars go to workdir/eval_watch/ (TensorBoard and metrics.jsonl).
  The evaluators' jitted functions are built once and reused for every checkpoint. Returns the last
  evaluation's means.
  """
  check(config)
  workdir = epath.Path(workdir)
  setup = setup_lib.eval_setup(config)
  writer = writers.MetricWriter(workdir / "eval_watch")
  means: dict[str, float] = {}
  last_new = time.time()
  done = False
  try:
    while not done:
      ckpt = checkpoint.Checkpointer(workdir / "checkpoints", async_save=False)  # Re-reads the step list.
      try:
        steps = sorted(ckpt.all_steps())
        todo = [s for s in steps if not (workdir / "eval" / str(s) / "metrics.json").exists()]
        done = bool(steps) and steps[-1] >= config.num_train_steps
        for step in todo:
          try:
            state, _ = ckpt.restore(step, setup.abstract_state)
          except FileNotFoundError:  # Deleted by the trainer's retention policy meanwhile.
            logging.warning("checkpoint %d disappeared before it was evaluated; skipped", step)
            continue
          with jax.set_mesh(setup.mesh):
            means = evaluate_state(config, setup, state, workdir / "eval" / str(step))
          writer.write_scalars(step, means, prefix="eval/")
          last_new = time.time()
      finally:
        ckpt.close()
      if done:
        break
      if time.time() - last_new > timeout_seconds:
        logging.warning("no new checkpoint in %s for %.0f s: stopping the evaluator", workdir, timeout_seconds)
        break
      time.sleep(poll_seconds)
  finally:
    writer.close()
  return means
