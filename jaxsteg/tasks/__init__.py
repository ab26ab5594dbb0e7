"""Model families as tasks: pure functions the generic loop in `jaxsteg.train` composes.

A task module `jaxsteg.tasks.<name>` provides:
  train_dataset(config) -> grain.MapDataset of this process's batches (dicts of numpy arrays)
  eval_set(config) -> an object with `.length` and `.example(i)` (see `jaxsteg.data.pipeline.EvalSet`)
  init_state(config, rng, batch) -> state {'step', 'params': {net: ...}, 'opt_state': {net: ...}, 'rng', ...}
  train_step(config, state, batch) -> (state, {scalar metrics})
  eval_step(config, state, batch) -> ({per-example metrics, shape (B,)}, {name: images (B, H, W, C)})
  grid_columns(config, images) -> [(title, images (B, H, W, C) in [0, 1])] for the sample PNG grid
  dummy_batch(config, batch_size) -> zeros shaped like a batch (restoring without reading any dataset)
Optional: extra_evaluation(config, setup, state, eval_set, outdir) -> {name: float}, run by every process after
the held-out metrics (process 0 writes any files it makes under `outdir`); its numbers join metrics.json.
Families that hide images also give the CLI `hide_images` and `reveal_images` (numpy uint8 in and out).
The loop adds jit, shardings, donation, checkpoints, logging and evaluation; it knows nothing of the family.
"""

import importlib
from types import ModuleType


class ConfigError(ValueError):
  """A user mistake in a config or in a file it names: `jaxsteg.main` prints the message and exits with 2."""


def get_task(name: str) -> ModuleType:
  try:
    return importlib.import_module(f"jaxsteg.tasks.{name}")
  except ModuleNotFoundError as e:
    if e.name == f"jaxsteg.tasks.{name}":
      raise ConfigError(f"unknown task {name!r}: no module jaxsteg/tasks/{name}.py") from e
    raise
