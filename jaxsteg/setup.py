"""What training and evaluation share: the task, the mesh, the shardings and the abstract (unallocated) state.

`make_setup` builds it from one example batch (training) and `eval_setup` from one held-out batch (evaluation
jobs read no training data). A `Setup` also caches the jitted functions built for it (`cached`), so an
evaluator that runs at every checkpoint compiles once.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import jax
import ml_collections

from jaxsteg import checkpoint
from jaxsteg import sharding
from jaxsteg import tasks
from jaxsteg.data import pipeline


@dataclasses.dataclass
class Setup:
  """The task, the mesh, shardings and the abstract state; `functions` holds what `cached` built."""
  task: Any
  mesh: jax.sharding.Mesh
  state_sharding: Any
  batch_sharding: Any
  abstract_state: Any
  init_fn: Any
  functions: dict = dataclasses.field(default_factory=dict)

  def cached(self, key: Any, build: Callable[[], Any]) -> Any:
    """`build()` the first time `key` is asked for, the same object afterwards."""
    if key not in self.functions:
      self.functions[key] = build()
    return self.functions[key]


def make_setup(config: ml_collections.ConfigDict, example_local_batch: dict) -> Setup:
  """Builds the mesh, checks the batch, and derives the state's shape and sharding without allocating it."""
  task = tasks.get_task(config.task)
  mesh = sharding.make_mesh(config.get("num_devices"))
  init_fn = functools.partial(task.init_state, config)
  abstract = jax.eval_shape(init_fn, jax.random.key(0), sharding.global_shape(example_local_batch))
  repl = sharding.replicated(mesh)
  return Setup(task, mesh, repl, sharding.batch_sharding(mesh),
               checkpoint.abstract_with_sharding(abstract, repl), init_fn)


def eval_setup(config: ml_collections.ConfigDict) -> Setup:
  """Mesh, shardings and abstract state for evaluation, from one held-out batch (no training data read)."""
  example = next(pipeline.eval_batches(tasks.get_task(config.task).eval_set(config), config.eval.batch_size))
  example.pop("mask")
  return make_setup(config, example)
