"""Orbax checkpointing: the only module that imports orbax.

A checkpoint holds the train state (a pytree of sharded arrays) and the data iterator's state (JSON), so a
resumed run sees the same batches as an uninterrupted one. The run's config is written beside the checkpoints.
Saves happen every `save_every` steps, at the last step, and when a preemption is signalled; the newest `keep`
are kept. Saves are asynchronous: the next steps run while the files are written.
"""

from __future__ import annotations

import json
import os
from typing import Any

from absl import logging
import jax
import orbax.checkpoint as ocp
from etils import epath

from jaxsteg import errors
from jaxsteg import files


PREVIOUS_CONFIG = "config.previous.json"   # A workdir's config before a resume with changed settings.


class Checkpointer:
  """A thin wrapper over `ocp.CheckpointManager` with our save policy and items."""

  def __init__(self, directory: str | epath.Path, *, save_every: int = 1000, keep: int = 3,
               async_save: bool = True):
    self.directory = absolute(directory)
    policy = ocp.checkpoint_managers.AnySavePolicy([
        ocp.checkpoint_managers.FixedIntervalPolicy(save_every),
        ocp.checkpoint_managers.PreemptionCheckpointingPolicy(),
    ])
    options = ocp.CheckpointManagerOptions(
        save_decision_policy=policy,
        preservation_policy=ocp.checkpoint_managers.LatestN(keep),
        enable_async_checkpointing=async_save,
        create=True,
    )
    self._manager = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "data"))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def reached_preemption(self, step: int) -> bool:
    return self._manager.reached_preemption(step)

  def save(self, step: int, state: Any, data_state: dict | None = None, *, force: bool = False) -> bool:
    """Saves if the policy (or `force`) says so; returns whether a save started."""
    return self._manager.save(
        step,
        args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                data=ocp.args.JsonSave(data_state or {})),
        force=force)

  def restore(self, step: int | None, abstract_state: Any, *, fallback: bool = False) -> tuple[Any, dict]:
    """Restores `step` (latest if None) into the shardings of `abstract_state` (from jax.eval_shape).

    When it cannot be restored but an older step can, that step is damaged (an interrupted copy, a truncated
    array file): with `fallback` (training resumes) the newest step that restores is returned, with a warning
    naming the damaged one, which is moved aside to `<step>.damaged` (left on disk, out of the step list, so
    later saves of that step can happen); without it, `DamagedCheckpoint` says which step is damaged and which
    to choose with --step. When no step restores, `CheckpointMismatch` (a different config, most likely).
    """
    return self._restore_newest(step, lambda s: self._restore(s, abstract_state), fallback)

  def restore_entries(self, step: int | None, names: tuple[str, ...], sharding: Any) -> dict:
    """Only the entries `names` of the saved train state (e.g. 'params' and 'step', not the optimizer state)
    of `step` (latest if None), every array placed with `sharding`. Their shapes and dtypes come from the
    checkpoint's own metadata, so no model is traced to derive them, and only these arrays are read (a third
    of a state with Adam moments). A damaged step raises `DamagedCheckpoint` as `restore` does."""
    return self._restore_newest(step, lambda s: (self._restore_entries(s, names, sharding), {}), False)[0]

  def _restore_newest(self, step: int | None, restore_step, fallback: bool) -> tuple[Any, dict]:
    """`restore_step(step)`, or the handling of a damaged step that `restore` describes."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    if step not in self.all_steps():
      raise FileNotFoundError(f"no checkpoint for step {step} in {self.directory}; "
                              f"available: {self.all_steps()}")
    try:
      return restore_step(step)
    except Exception as e:  # pylint: disable=broad-except  (Orbax and TensorStore raise many types.)
      error = e
    for other in sorted((s for s in self.all_steps() if s < step), reverse=True):
      try:
        restored = restore_step(other)
      except Exception:  # pylint: disable=broad-except
        continue
      reason = describe_error(error)
      if not fallback:
        raise DamagedCheckpoint(f"checkpoint step {step} in {self.directory} is damaged ({reason}); step {other} "
                                f"restores: choose it with --step {other}") from error
      aside = self.directory / f"{step}.damaged"
      (self.directory / str(step)).rename(aside)
      self._manager.reload()
      logging.warning("checkpoint step %d in %s is damaged (%s); moved to %s and left on disk; resuming from "
                      "step %d, the newest checkpoint that restores", step, self.directory, reason, aside, other)
      return restored
    raise CheckpointMismatch(f"cannot restore the checkpoint of step {step} in {self.directory} "
                             f"({describe_error(error)}), nor any older one; was it written by a different "
                             f"config?") from error

  def _restore(self, step: int, abstract_state: Any) -> tuple[Any, dict]:
    restored = self._manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state),
                                      data=ocp.args.JsonRestore()))
    return restored["state"], dict(restored["data"] or {})

  def _restore_entries(self, step: int, names: tuple[str, ...], sharding: Any) -> dict:
    path = self.directory / str(step) / "state"   # The manager's folder of the item "state".
    handler = ocp.PyTreeCheckpointHandler()
    try:
      saved = handler.metadata(path).tree
      missing = [n for n in names if n not in saved]
      if missing:
        raise KeyError(f"the saved state has no {', '.join(missing)} (it has {', '.join(sorted(saved))})")
      abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=sharding),
                              {n: saved[n] for n in names})
      restore_args = jax.tree.map(
          lambda a: ocp.ArrayRestoreArgs(sharding=a.sharding, global_shape=a.shape, dtype=a.dtype), abstract)
      return handler.restore(path, args=ocp.args.PyTreeRestore(item=abstract, restore_args=restore_args,
                                                                partial_restore=True))
    finally:
      handler.close()

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()


class CheckpointMismatch(errors.RunError):
  """No checkpoint of a directory restores into the expected state (a different config)."""


class DamagedCheckpoint(errors.RunError):
  """A checkpoint step cannot be restored although an older one can: its files are damaged."""


def describe_error(error: BaseException, limit: int = 240) -> str:
  """`Type: first line of the message`, cut to `limit` characters (TensorStore's messages run long)."""
  lines = str(error).strip().splitlines()
  text = f"{type(error).__name__}: {lines[0] if lines else ''}"
  return text if len(text) <= limit else text[:limit - 3] + "..."


def absolute(path: str | epath.Path) -> epath.Path:
  """Orbax needs absolute paths: a relative local workdir is resolved (URLs such as gs:// are kept)."""
  text = str(path)
  return epath.Path(text if "://" in text else os.path.abspath(text))


def abstract_with_sharding(abstract_state: Any, sharding: Any) -> Any:
  """Attaches one sharding (or a matching tree of them) to every leaf of an eval_shape result."""
  if isinstance(sharding, jax.sharding.Sharding):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), abstract_state)
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), abstract_state, sharding)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
  if not isinstance(tree, dict):
    return {prefix: tree}
  out = {}
  for k, v in tree.items():
    out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
  return out


def config_changes(old: dict, new: dict) -> list[str]:
  """'key: old -> new' for every field that differs between two configs (as JSON dicts)."""
  a, b = _flatten(old), _flatten(new)
  return [f"{k}: {a.get(k, '(absent)')!r} -> {b.get(k, '(absent)')!r}" for k in sorted(set(a) | set(b))
          if a.get(k, "(absent)") != b.get(k, "(absent)")]


def write_config(workdir: str | epath.Path, config_json: str) -> list[str]:
  """Writes config.json beside the checkpoints (process 0), atomically.

  When the workdir already holds a different config (a run resumed with changed settings), the differences
  are logged as a warning and the previous file is kept as config.previous.json. Returns the differences.
  """
  if jax.process_index() != 0:
    return []
  path = epath.Path(workdir) / "config.json"
  path.parent.mkdir(parents=True, exist_ok=True)
  new = json.loads(config_json)
  changes = []
  if path.exists():
    try:
      old = json.loads(path.read_text())
    except ValueError:
      old = {}
    changes = config_changes(old, new)
    if changes:
      logging.warning("%s held a different config; the run continues with the new one (the old one is kept as "
                      "config.previous.json). Changed: %s", path, "; ".join(changes))
      files.atomic_write(path.parent / PREVIOUS_CONFIG, path.read_text())
  files.atomic_write(path, json.dumps(new, indent=2, sort_keys=True))
  return changes
