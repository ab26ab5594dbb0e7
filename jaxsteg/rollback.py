"""Automatic recovery from loss explosions: skipped non-finite steps, and rollback to the last checkpoint with a
lower learning rate when the loss spikes.

Opt-in (`configs.common.add_stability`); the training loop creates a `Guard` only when `config.stability` exists,
so every other config trains exactly as before. The loop hands the guard each batch of host metrics before it
logs or saves anything:
- a non-finite loss on a step whose update `optax.apply_if_finite` skipped (`optim.skip_nonfinite`) is logged
  and left out of the logged means, up to `optim.skip_nonfinite` such steps in a row (more: the loop stops as it
  does without the guard);
- a loss above `stability.spike_factor` × the median of the last `stability.window` good losses (once there are
  `stability.min_history`), or a non-finite one that was not skipped, is a spike: the loop restores the last
  checkpoint (never one written after the spike: checks run before saves) and continues with the learning rate
  scaled by `stability.lr_factor`. Invertible networks are known for such jumps (HiNet's authors rolled back by
  hand twice; 1e-3 → 1e9 jumps are reported); a rollback is the automatic version of that fix.
Each rollback is logged and appended to workdir/rollbacks.jsonl, which a resumed run reads to keep the lowered
rate. The rate is `config.optim.learning_rate` (the families' single rate; the step function is rebuilt with it).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import json
import math
from typing import Any

from absl import logging
from etils import epath
import jax
import ml_collections
import numpy as np

from jaxsteg import errors


class TooManyRollbacksError(errors.UserError):
  """The loss kept spiking after `stability.max_rollbacks` rollbacks."""


@dataclasses.dataclass
class Spike:
  """A step whose loss triggered a rollback."""
  step: int
  loss: float
  median: float


class Guard:
  """Watches the training loss (see the module docstring); state: recent good losses and the rollbacks so far."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str | epath.Path):
    s = config.stability
    self.rollback = bool(s.rollback)
    self.spike_factor = float(s.spike_factor)
    self.min_history = int(s.min_history)
    self.lr_factor = float(s.lr_factor)
    self.max_rollbacks = int(s.max_rollbacks)
    self.max_skipped = int(config.optim.get("skip_nonfinite", 0))
    self.history: collections.deque = collections.deque(maxlen=int(s.window))
    self.path = epath.Path(workdir) / "rollbacks.jsonl"
    self.events: list[dict] = read_events(self.path)
    self.skipped_in_a_row = 0
    self.skipped_total = 0

  @property
  def lr_scale(self) -> float:
    return self.lr_factor ** len(self.events)

  def scaled(self, config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """`config` with the learning rate the rollbacks so far leave (itself when there were none)."""
    if not self.events:
      return config
    out = copy.deepcopy(config)
    with out.unlocked():
      out.optim.learning_rate = config.optim.learning_rate * self.lr_scale
    return out

  def inspect(self, host_metrics: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], Spike | None]:
    """(the steps to log, the first spike or None). Steps after a spike are dropped with it (they are undone)."""
    kept = []
    for step, m in host_metrics:
      loss = float(m["loss"])
      if not math.isfinite(loss):
        if self.max_skipped and self.skipped_in_a_row < self.max_skipped:
          self.skipped_in_a_row += 1
          self.skipped_total += 1
          logging.warning("step %d: loss %s, update skipped (%d in a row, at most %d)", step, loss,
                          self.skipped_in_a_row, self.max_skipped)
          continue
        if self.rollback:
          return kept, Spike(step, loss, self.median())
        kept.append((step, m))   # The loop's own check stops training on it.
        continue
      self.skipped_in_a_row = 0
      if self.rollback and len(self.history) >= self.min_history and loss > self.spike_factor * self.median():
        return kept, Spike(step, loss, self.median())
      self.history.append(loss)
      kept.append((step, m))
    return kept, None

  def median(self) -> float:
    return float(np.median(self.history)) if self.history else float("nan")

  def record(self, spike: Spike, restored_step: int, base_lr: float) -> dict:
    """Logs a rollback to `restored_step` and appends it to rollbacks.jsonl; raises `TooManyRollbacksError`
    past `max_rollbacks`. Returns the event."""
    if len(self.events) >= self.max_rollbacks:
      raise TooManyRollbacksError(
          f"the training loss spiked at step {spike.step} ({spike.loss:.4g}, {self.spike_factor:g}x the median "
          f"{spike.median:.4g}) after {len(self.events)} rollbacks (stability.max_rollbacks); lower "
          f"optim.learning_rate or optim.grad_clip and resume from the last checkpoint")
    event = {"step": spike.step, "loss": spike.loss, "median": spike.median, "restored_step": restored_step,
             "learning_rate": base_lr * self.lr_scale * self.lr_factor}
    self.events.append(event)
    self.skipped_in_a_row = 0
    logging.warning("loss spike at step %d (%.4g > %g x median %.4g): rolled back to step %d, learning rate "
                    "now %.3g (rollback %d of at most %d)", spike.step, spike.loss, self.spike_factor,
                    spike.median, restored_step, event["learning_rate"], len(self.events), self.max_rollbacks)
    if jax.process_index() == 0:
      with self.path.open("a") as f:
        f.write(json.dumps(event) + "\n")
    return event


def read_events(path: epath.Path) -> list[dict]:
  """The rollbacks recorded in a workdir's rollbacks.jsonl ([] when there is none)."""
  if not path.exists():
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def maybe_guard(config: ml_collections.ConfigDict, workdir: Any) -> Guard | None:
  """A `Guard` when `config` has a `stability` block, else None (training as without one)."""
  return Guard(config, workdir) if config.get("stability") is not None else None
