"""Metric writing from process 0 only: TensorBoard events, a JSON-lines log, and a console progress line."""

from __future__ import annotations

import json
import time
from typing import Mapping

from absl import logging
from etils import epath
import jax


class MetricWriter:
  """Writes scalars to TensorBoard (tensorboardX, no TensorFlow needed) and to `metrics.jsonl`."""

  def __init__(self, workdir: str | epath.Path, enabled: bool | None = None):
    self.enabled = jax.process_index() == 0 if enabled is None else enabled
    self._tb = None
    self._jsonl = None
    if self.enabled:
      workdir = epath.Path(workdir)
      workdir.mkdir(parents=True, exist_ok=True)
      from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
      self._tb = SummaryWriter(str(workdir / "tensorboard"))
      self._jsonl = open(workdir / "metrics.jsonl", "a", encoding="utf-8")  # pylint: disable=consider-using-with

  def write_scalars(self, step: int, scalars: Mapping[str, float], prefix: str = "") -> None:
    if not self.enabled:
      return
    row = {f"{prefix}{k}": float(v) for k, v in scalars.items()}
    for k, v in row.items():
      self._tb.add_scalar(k, v, step)
    self._jsonl.write(json.dumps({"step": step, **row}) + "\n")
    self._jsonl.flush()

  def close(self) -> None:
    if self.enabled:
      self._tb.close()
      self._jsonl.close()


class Progress:
  """Steps/s over the last interval between reports (the first includes compilation) and the ETA."""

  def __init__(self, total_steps: int, start_step: int):
    self.total = total_steps
    self._t, self._s = time.time(), start_step

  def report(self, step: int, scalars: Mapping[str, float]) -> str:
    now = time.time()
    rate = (step - self._s) / max(now - self._t, 1e-9)
    self._t, self._s = now, step
    eta = (self.total - step) / rate if rate > 0 else float("nan")
    shown = "  ".join(f"{k}={v:.4g}" for k, v in scalars.items())
    line = f"step {step}/{self.total}  {rate:.2f} steps/s  ETA {_fmt(eta)}  {shown}"
    if jax.process_index() == 0:
      logging.info(line)
    return line


def _fmt(seconds: float) -> str:
  if seconds != seconds:
    return "?"
  m, s = divmod(int(seconds), 60)
  h, m = divmod(m, 60)
  return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
