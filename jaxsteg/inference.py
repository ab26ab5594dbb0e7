"""Loading a trained run for use on real files: its config and the parameters of its latest checkpoint."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np

from jaxsteg import checkpoint
from jaxsteg import errors
from jaxsteg import sharding
from jaxsteg import tasks

RunError = errors.RunError


@dataclasses.dataclass
class LoadedRun:
  config: ml_collections.ConfigDict
  task: Any
  params: Any
  step: int


def load_config(workdir: str) -> ml_collections.ConfigDict:
  path = os.path.join(workdir, "config.json")
  if not os.path.isdir(workdir):
    raise RunError(f"workdir {workdir!r} does not exist; train one with "
                   f"`python -m jaxsteg.main --config configs/... --workdir {workdir}`")
  if not os.path.exists(path):
    raise RunError(f"workdir {workdir!r} has no config.json: it is not a jaxsteg training run")
  try:
    with open(path, encoding="utf-8") as f:
      return ml_collections.ConfigDict(json.load(f))
  except (OSError, ValueError) as e:
    raise RunError(f"cannot read {path}: {e}") from e


def load_run(workdir: str, step: int | None = None) -> LoadedRun:
  """Restores the latest (or given) checkpoint of `workdir` on one device."""
  config = load_config(workdir)
  ckpt_dir = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(ckpt_dir) or not any(n.isdigit() for n in os.listdir(ckpt_dir)):
    raise RunError(f"workdir {workdir!r} has no checkpoint yet; train it first (or wait for the first save)")
  if not config.get("task"):
    raise RunError(f"{os.path.join(workdir, 'config.json')} names no task: it is not a jaxsteg run config")
  config.num_devices = 1
  try:
    task = tasks.get_task(config.task)
  except errors.ConfigError as e:
    raise RunError(str(e)) from e
  # Only the parameters and the step are read, with the shapes the checkpoint records: nothing is traced or
  # computed to derive the training state, and the optimizer state is never read.
  ckpt = checkpoint.Checkpointer(ckpt_dir, async_save=False)
  try:
    state = ckpt.restore_entries(step, ("params", "step"), sharding.replicated(sharding.make_mesh(1)))
  except FileNotFoundError as e:
    raise RunError(str(e)) from e
  except errors.UserError:
    raise
  except Exception as e:  # Orbax raises many types for damaged or mismatched checkpoints.
    raise RunError(f"cannot restore the checkpoint in {ckpt_dir} ({type(e).__name__}: {e}); "
                   f"was it written by a different config?") from e
  finally:
    ckpt.close()
  check_params(config, task, state["params"], ckpt_dir)
  return LoadedRun(config, task, state["params"], int(np.asarray(state["step"])))


def check_params(config: ml_collections.ConfigDict, task: Any, params: Any, ckpt_dir: str) -> None:
  """`RunError` unless `params` have the shapes of the model `config` describes. The parameters are restored
  with the checkpoint's own shapes, so a config.json that no longer describes them (edited by hand, or a run
  resumed with changed settings whose restore then failed) is found here, by tracing the model's initialisation
  (not computing it: ~0.1 s), rather than as a traceback from the first network call."""
  expected = jax.eval_shape(lambda: task.init_state(config, jax.random.key(0), task.dummy_batch(config, 1)))
  want = jax.tree.map(lambda a: f"{a.shape} {a.dtype}", expected["params"])
  got = jax.tree.map(lambda a: f"{a.shape} {a.dtype}", params)
  if jax.tree.structure(want) != jax.tree.structure(got) or jax.tree.leaves(want) != jax.tree.leaves(got):
    hint = (f"; the config it was trained with may be {checkpoint.PREVIOUS_CONFIG}"
            if os.path.exists(os.path.join(os.path.dirname(ckpt_dir), checkpoint.PREVIOUS_CONFIG)) else "")
    raise RunError(f"the checkpoint in {ckpt_dir} holds another model than config.json describes (was config.json "
                   f"changed after training?{hint})")
