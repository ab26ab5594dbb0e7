"""The generic training loop. It knows nothing about any model family: the task module supplies data,
`init_state`, `train_step` and `eval_step` (see `jaxsteg.tasks`).

mesh → data → abstract init (eval_shape) → shardings → restore or jit(init) → jitted, donated steps, with
periodic logging, evaluation and checkpoints. A NaN/Inf in the loss stops training with a clear error before any
checkpoint of the bad state is written, so the last checkpoint on disk is always good. Configs with a `stability`
block (opt-in) also skip non-finite steps and roll back to the last checkpoint on a loss spike (`jaxsteg.rollback`).
"""

from __future__ import annotations

import signal
from typing import Any

from absl import logging
from etils import epath
import jax
import ml_collections
import numpy as np

from jaxsteg import checkpoint
from jaxsteg import errors
from jaxsteg import evaluate
from jaxsteg import rollback
from jaxsteg import sharding
from jaxsteg import tasks
from jaxsteg import writers
from jaxsteg.data import pipeline
from jaxsteg.setup import Setup
from jaxsteg.setup import make_setup


class NonFiniteLossError(errors.UserError, FloatingPointError):
  """Raised when the training loss becomes NaN or Inf (the message says which checkpoint is good and what to
  change)."""


class RetraceError(RuntimeError):
  """The train step was traced again: its input shapes or dtypes changed between steps."""


def make_train_step(config: ml_collections.ConfigDict, setup: Setup, max_traces: int | None = 1):
  """The jitted train step; the incoming state's buffers are donated. Raises `RetraceError` if it is traced
  more than `max_traces` times (a recompile every step is a silent 100× slowdown)."""
  traces = 0

  def train_step(state, batch):
    nonlocal traces
    traces += 1
    if max_traces and traces > max_traces:
      raise RetraceError(f"the train step was traced {traces} times (limit {max_traces}): the batch's shapes "
                         f"or dtypes changed between steps; keep them fixed (drop_remainder batching)")
    return setup.task.train_step(config, state, batch)

  return jax.jit(train_step, in_shardings=(setup.state_sharding, setup.batch_sharding),
                 out_shardings=(setup.state_sharding, sharding.replicated(setup.mesh)), donate_argnums=0)


def init_or_restore(config, setup: Setup, ckpt: checkpoint.Checkpointer, example_local_batch: dict
                    ) -> tuple[Any, dict | None]:
  """The latest checkpoint if there is one, else a fresh state from `config.seed`."""
  step = ckpt.latest_step()
  if step is not None:
    logging.info("Restoring step %d from %s", step, ckpt.directory)
    return ckpt.restore(step, setup.abstract_state, fallback=True)
  init = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)
  return init(jax.random.key(config.seed), sharding.to_global(example_local_batch, setup.batch_sharding)), None


class _PreemptionFlag:
  """Set by SIGTERM (how schedulers announce preemption) so the loop saves and exits at a step boundary."""

  def __init__(self):
    self.raised = False
    self._previous = None

  def __enter__(self):
    try:
      self._previous = signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # Not the main thread: rely on Orbax's multi-host preemption check alone.
      self._previous = None
    return self

  def _handle(self, signum, frame):
    del signum, frame
    self.raised = True

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)


def _check_finite(host_metrics: list[tuple[int, dict]], last_saved: int | None, ckpt_dir) -> None:
  for step, m in host_metrics:
    if not np.isfinite(m["loss"]):
      where = (f"the last good checkpoint is step {last_saved} in {ckpt_dir}" if last_saved is not None
               else "no checkpoint was written")
      raise NonFiniteLossError(
          f"training loss became {m['loss']} at step {step}; stopped without saving the bad state ({where}). "
          f"Lower optim.learning_rate or set optim.grad_clip, then resume from that checkpoint.")


def _roll_back(config, setup: Setup, ckpt: checkpoint.Checkpointer, last_saved: int | None,
               example_local_batch: dict) -> tuple[Any, int]:
  """(the state of the last checkpoint, or the fresh initial state when none was written yet; its step)."""
  ckpt.wait()
  if last_saved is None:
    init = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)
    return init(jax.random.key(config.seed), sharding.to_global(example_local_batch, setup.batch_sharding)), 0
  state, _ = ckpt.restore(last_saved, setup.abstract_state)
  return state, last_saved


def _mean_metrics(host_metrics: list[tuple[int, dict]]) -> dict[str, float]:
  keys = host_metrics[0][1].keys()
  return {k: float(np.mean([m[k] for _, m in host_metrics])) for k in keys}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, stop_at_step: int | None = None
                       ) -> dict[str, float]:
  """Trains `config` in `workdir` (resuming from its latest checkpoint) and evaluates the final state.

  `stop_at_step` saves and returns early at that step, as a preemption would (no final evaluation).
  Returns the final evaluation's mean metrics ({} when stopped early).
  """
  task = tasks.get_task(config.task)
  evaluate.check(config)   # An evaluator that cannot run fails now, not after training.
  workdir = epath.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  checkpoint.write_config(workdir, config.to_json())
  ds = task.train_dataset(config)
  example = ds[0]
  setup = make_setup(config, example)
  sharding.check_batch_size(config.batch_size, setup.mesh)
  ckpt = checkpoint.Checkpointer(workdir / "checkpoints", save_every=config.checkpoint_every,
                                 keep=config.keep_checkpoints, async_save=config.get("async_checkpoints", True))
  state, data_state = init_or_restore(config, setup, ckpt, example)
  train_iter = pipeline.make_train_iter(ds, data_state)
  guard = rollback.maybe_guard(config, workdir)
  step_fn = make_train_step(guard.scaled(config) if guard else config, setup)
  writer = writers.MetricWriter(workdir)
  start = int(jax.device_get(state["step"]))
  total = config.num_train_steps
  progress = writers.Progress(total, start)
  last_saved = ckpt.latest_step()
  pending: list[tuple[int, dict]] = []
  stop = False
  if start >= total:
    logging.info("Already trained to step %d (num_train_steps=%d): evaluating only.", start, total)

  # Several CPU devices in one process share one thread pool: letting step N+1 start on one device while
  # another still runs step N has deadlocked the gradient all-reduce (seen after ~700 steps on 2 cores).
  # There, wait for each step; accelerators keep asynchronous dispatch.
  sync_each_step = jax.default_backend() == "cpu" and setup.mesh.devices.size > 1
  with _PreemptionFlag() as preempted, jax.set_mesh(setup.mesh):
    step = start
    while step < total:
      step += 1
      batch = sharding.to_global(next(train_iter), setup.batch_sharding)
      state, m = step_fn(state, batch)
      if sync_each_step:
        jax.block_until_ready(m)
      pending.append((step, m))
      stop = preempted.raised or ckpt.reached_preemption(step) or step == stop_at_step
      log_now = step % config.log_every == 0 or step == total
      save_now = step % config.checkpoint_every == 0 or step == total or stop
      eval_now = bool(config.eval_every) and step % config.eval_every == 0 and step != total
      if log_now or save_now or eval_now:
        host = jax.device_get(pending)
        pending = []
        if guard is not None:
          host, spike = guard.inspect(host)
          if spike is not None:   # Back to the last good checkpoint, with a lower learning rate.
            state, restored = _roll_back(config, setup, ckpt, last_saved, example)
            guard.record(spike, restored, config.optim.learning_rate)
            writer.write_scalars(spike.step, {"rollbacks": len(guard.events)}, prefix="train/")
            step_fn = make_train_step(guard.scaled(config), setup)
            step = restored
            if stop:
              break
            continue
        _check_finite(host, last_saved, ckpt.directory)
        if host:
          mean = _mean_metrics(host)
          writer.write_scalars(step, mean, prefix="train/")
          if log_now:
            progress.report(step, {k: mean[k] for k in list(mean)[:6]})
      if save_now:
        # The iterator state after this step's batch: a resume continues with the next batch.
        ckpt.save(step, state, train_iter.get_state(), force=True)
        last_saved = step
      if eval_now:
        means = evaluate.evaluate_state(config, setup, state, workdir / "eval" / str(step))
        writer.write_scalars(step, means, prefix="eval/")
      if stop:
        logging.warning("Stopped at step %d (checkpoint saved); rerun the same command to resume.", step)
        break
    ckpt.wait()
    means = {}
    if not stop:
      final_step = int(jax.device_get(state["step"]))
      means = evaluate.evaluate_state(config, setup, state, workdir / "eval" / str(final_step))
      writer.write_scalars(final_step, means, prefix="eval/")
  writer.close()
  ckpt.close()
  return means
