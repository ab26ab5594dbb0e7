"""Evaluators found by name (like tasks), built from `config.evals` (after big_vision's `evaluators/common.py`).

An evaluator is a module `jaxsteg.evaluators.<name>` with

  run(config, setup, state, eval_set, outdir) -> {metric name: float}   every process calls it; process 0
                                                                        writes any files under `outdir`
  CAPABILITY = tasks.ImageHider (or another capability, or None)       what the task must be able to do
  check(config) -> None (optional)                                      fails fast (`errors.ConfigError`),
                                                                        before any training, on bad options

`config.evals` maps evaluator names to their options (`config.evals.<name>`, read with `options`); an entry
with `enabled=False` is skipped. `heldout` runs first, then the others in alphabetical order, and their
numbers are merged into one metrics.json. Adding an evaluator is adding its module and naming it in a config.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import jax
import ml_collections
import numpy as np

from jaxsteg import errors
from jaxsteg import tasks

FIRST = "heldout"


def get_evaluator(name: str) -> ModuleType:
  """The evaluator module `jaxsteg.evaluators.<name>`; `errors.ConfigError` when there is none."""
  try:
    module = importlib.import_module(f"jaxsteg.evaluators.{name}")
  except ModuleNotFoundError as e:
    if e.name == f"jaxsteg.evaluators.{name}":
      raise errors.ConfigError(f"unknown evaluator {name!r} in config.evals: no module "
                               f"jaxsteg/evaluators/{name}.py") from e
    raise
  if not callable(getattr(module, "run", None)):
    raise errors.ConfigError(f"config.evals names {name!r}, but jaxsteg/evaluators/{name}.py is not an "
                             f"evaluator (it has no run function)")
  return module


def options(config: ml_collections.ConfigDict, name: str) -> ml_collections.ConfigDict:
  """The options block `config.evals.<name>` (empty when the config has none)."""
  evals = config.get("evals") or {}
  return evals.get(name) or ml_collections.ConfigDict()


def names(config: ml_collections.ConfigDict) -> list[str]:
  """The enabled evaluators of `config`, in the order they run."""
  evals = config.get("evals") or {}
  enabled = [n for n in evals if (evals[n] or {}).get("enabled", True)]
  return sorted(enabled, key=lambda n: (n != FIRST, n))


def from_config(config: ml_collections.ConfigDict, task: ModuleType) -> list[tuple[str, ModuleType]]:
  """(name, module) of every enabled evaluator, each checked against `task` and its own `check`."""
  out = []
  for name in names(config):
    module = get_evaluator(name)
    capability = getattr(module, "CAPABILITY", None)
    if capability is not None:
      tasks.require(task, capability, f"evaluator {name!r} (config.evals.{name})")
    check = getattr(module, "check", None)
    if check is not None:
      check(config)
    out.append((name, module))
  return out


def run_all(config: ml_collections.ConfigDict, setup: Any, state: Any, eval_set: Any, outdir) -> dict[str, float]:
  """Every enabled evaluator on `state`; their metrics merged (a later one may not overwrite a name)."""
  means: dict[str, float] = {}
  for name, module in from_config(config, setup.task):
    out = module.run(config, setup, state, eval_set, outdir)
    clash = sorted(set(out) & set(means))
    if clash:
      raise ValueError(f"evaluator {name!r} reports metrics that another one already did: {clash}")
    means.update(out)
  return means


# --- Helpers shared by evaluators ------------------------------------------------------------------------------

def chunked(fn, arrays: tuple, chunk: int) -> np.ndarray:
  """fn over rows of `arrays` in fixed-size (padded) chunks, so that it compiles once."""
  n = arrays[0].shape[0]
  outs = []
  for s in range(0, n, chunk):
    part = [a[s:s + chunk] for a in arrays]
    pad = chunk - part[0].shape[0]
    part = [np.concatenate([p, np.repeat(p[-1:], pad, axis=0)]) if pad else p for p in part]
    outs.append(np.asarray(fn(*part))[:chunk - pad])
  return np.concatenate(outs)


def step_of(state: Any) -> int:
  return int(jax.device_get(state["step"]))
