"""Evaluation: run a family's `eval_step` over the whole held-out set and write the results.

Metrics are per image and averaged over real images only (the last batch is padded and masked, never dropped).
Outputs in the eval folder: metrics.json, results.md (a markdown table) and grid.png (sample images).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from absl import logging
from etils import epath
import jax
import ml_collections
import numpy as np

from jaxsteg import images as image_io
from jaxsteg import sharding
from jaxsteg.data import pipeline


def _make_eval_fn(config, setup):
  def fn(state, batch):
    per_example, imgs = setup.task.eval_step(config, state, batch)
    return per_example, batch["mask"], imgs
  repl = sharding.replicated(setup.mesh)
  return jax.jit(fn, in_shardings=(setup.state_sharding, setup.batch_sharding),
                 out_shardings=(repl, repl, setup.batch_sharding))


def evaluate_state(config: ml_collections.ConfigDict, setup, state: Any, outdir: str | epath.Path,
                   write_images: bool = True) -> dict[str, float]:
  """Evaluates `state` on the task's held-out set; process 0 writes the files in `outdir`."""
  t0 = time.time()
  eval_set = setup.task.eval_set(config)
  global_batch = config.eval.batch_size
  sharding.check_batch_size(global_batch, setup.mesh)
  eval_fn = _make_eval_fn(config, setup)
  sums: dict[str, float] = {}
  count = 0.0
  for local in pipeline.eval_batches(eval_set, global_batch):
    batch = sharding.to_global(local, setup.batch_sharding)
    per_example, mask, _ = eval_fn(state, batch)
    per_example, mask = jax.device_get((per_example, mask))
    for k, v in per_example.items():
      sums[k] = sums.get(k, 0.0) + float(np.sum(np.asarray(v, np.float64) * mask))
    count += float(mask.sum())
  means = {k: v / count for k, v in sums.items()}
  extra = getattr(setup.task, "extra_evaluation", None)
  if extra is not None:  # Family-specific analyses (e.g. security statistics); they write their own files.
    means.update(extra(config, setup, state, eval_set, epath.Path(outdir)))
  grid_images = None
  if write_images:  # One more batch: examples spread over the whole set. Process 0 holds the first rows.
    indices = pipeline.grid_indices(eval_set, min(config.eval.num_grid_examples, global_batch))
    local = pipeline.indexed_batch(eval_set, indices, global_batch)
    _, _, imgs = eval_fn(state, sharding.to_global(local, setup.batch_sharding))
    grid_images = {k: sharding.local_rows(v)[:len(indices)] for k, v in imgs.items()}
  if jax.process_index() == 0:
    step = int(jax.device_get(state["step"]))
    write_results(config, outdir, step, int(count), means,
                  setup.task.grid_columns(config, grid_images) if grid_images else None)
    logging.info("Eval at step %d on %d images (%.1fs): %s", step, int(count), time.time() - t0,
                 ", ".join(f"{k}={v:.4g}" for k, v in means.items()))
  return means


def _atomic_write_text(path: epath.Path, text: str) -> None:
  tmp = path.parent / (path.name + ".tmp")
  tmp.write_text(text)
  tmp.replace(path)


def write_results(config, outdir, step: int, num_examples: int, means: dict[str, float],
                  grid_columns: list | None) -> None:
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
  _atomic_write_text(outdir / "metrics.json", json.dumps(record, indent=2) + "\n")
  rows = [f"| {k} | {v:.4f} |" for k, v in means.items()]
  table = (f"Evaluation of `{config.task}` at step {step} on {num_examples} held-out images "
           f"(8-bit containers, per-image mean)\n\n| metric | value |\n|---|---|\n" + "\n".join(rows) + "\n")
  _atomic_write_text(outdir / "results.md", table)
  if grid_columns:
    image_io.write_png(os.fspath(outdir / "grid.png"), image_io.make_grid(grid_columns))


def _eval_setup(config: ml_collections.ConfigDict):
  """Mesh, shardings and abstract state for evaluation, from one held-out batch (no training data read)."""
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  from jaxsteg import train  # pylint: disable=g-import-not-at-top
  example = next(pipeline.eval_batches(tasks.get_task(config.task).eval_set(config), config.eval.batch_size))
  example.pop("mask")
  return train.make_setup(config, example)


def run_eval(config: ml_collections.ConfigDict, workdir: str, step: int | None = None) -> dict[str, float]:
  """Restores `step` (latest if None) of `workdir` and evaluates it into workdir/eval/<step>/.

  The state is restored onto this job's mesh, whatever device count training used.
  """
  from jaxsteg import checkpoint  # pylint: disable=g-import-not-at-top
  setup = _eval_setup(config)
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
  Returns the last evaluation's means.
  """
  from jaxsteg import checkpoint  # pylint: disable=g-import-not-at-top
  from jaxsteg import writers  # pylint: disable=g-import-not-at-top
  workdir = epath.Path(workdir)
  setup = _eval_setup(config)
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
