"""The held-out metrics of any task: its `eval_step` over the whole held-out set, and the sample grid.

Metrics are per image and averaged over real images only (the last batch is padded and masked, never dropped);
every container is 8-bit rounded by the task's `eval_step`. The batch (`config.eval.batch_size`) is sharded
over the setup's mesh like training. One more batch of `num_grid_examples` examples, spread over the set,
makes grid.png (the task's `grid_columns`). Options (`config.evals.heldout`): num_grid_examples (0: no grid).
"""

from __future__ import annotations

import os

import jax
import numpy as np

from jaxsteg import images as image_io
from jaxsteg import sharding
from jaxsteg.data import pipeline
from jaxsteg.evaluators import common

CAPABILITY = None   # Every task.


def eval_function(config, setup):
  """The jitted, sharded eval step (per-example metrics, mask, images), built once per setup and config."""

  def build():
    def fn(state, batch):
      per_example, imgs = setup.task.eval_step(config, state, batch)
      return per_example, batch["mask"], imgs
    repl = sharding.replicated(setup.mesh)
    return jax.jit(fn, in_shardings=(setup.state_sharding, setup.batch_sharding),
                   out_shardings=(repl, repl, setup.batch_sharding))

  return setup.cached(("heldout.eval_function", config.to_json_best_effort(sort_keys=True)), build)


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  global_batch = config.eval.batch_size
  sharding.check_batch_size(global_batch, setup.mesh)
  eval_fn = eval_function(config, setup)
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
  num_grid = int(common.options(config, "heldout").get("num_grid_examples", 6))
  if num_grid > 0:   # One more batch: examples spread over the whole set. Process 0 holds the first rows.
    indices = pipeline.grid_indices(eval_set, min(num_grid, global_batch))
    local = pipeline.indexed_batch(eval_set, indices, global_batch)
    _, _, imgs = eval_fn(state, sharding.to_global(local, setup.batch_sharding))
    grid_images = {k: sharding.local_rows(v)[:len(indices)] for k, v in imgs.items()}
    if jax.process_index() == 0:
      image_io.write_png(os.path.join(os.fspath(outdir), "grid.png"),
                         image_io.make_grid(setup.task.grid_columns(config, grid_images)))
  return means
