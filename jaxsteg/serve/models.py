"""The models a `jaxsteg serve` process serves: one per workdir, restored and compiled once at start.

Each request runs the very functions the `jaxsteg` command runs (`jaxsteg.operations`),
so checks, notes and error messages are the same. A model's device work is serialised by its own lock: the
requests of many threads queue for it (the jitted functions are safe to share; one at a time keeps memory
bounded and every result exact), while uploads are parsed and responses encoded in parallel.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

import numpy as np

from jaxsteg import errors
from jaxsteg import operations
from jaxsteg import tasks

IMAGE, TEXT = "image", "text"


@dataclasses.dataclass
class ServedModel:
  """A restored run and what the API says about it."""
  name: str
  workdir: str
  run: Any
  kind: str                  # IMAGE (cover + secret image) or TEXT (cover + text)
  lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

  @property
  def needs_passphrase(self) -> bool:
    from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
    return self.kind == IMAGE and tasks.run_needs_passphrase(self.run.config)

  def describe(self) -> dict:
    """What `GET /api/models` says about this model."""
    config = self.run.config
    out = {"name": self.name, "task": config.task, "step": self.run.step, "kind": self.kind}
    if self.kind == IMAGE:
      k = self.run.task.num_secrets(config)
      out.update(family="image hiding", secrets=k,
                 capacity=(f"{k} secret image(s) per cover, resized to the cover's size; the container has the "
                           f"cover's size"),
                 passphrase="required" if self.needs_passphrase else "none")
    else:
      bpp = tasks.bits_per_pixel(self.run.task, config)
      out.update(family="exact text (bit payload)", bits_per_pixel=bpp,
                 capacity=(f"planned per cover: the bit error rate is measured on the cover itself ({bpp:g} bits "
                           f"per pixel before error correction); a text that does not fit is refused"),
                 passphrase="optional (encrypts the text with AES-256-GCM)")
    return out

  def embed(self, cover: np.ndarray, cover_name: str, secrets: list[tuple[str, np.ndarray]] | None,
            text: str | None, passphrase: str | None, survive: str | None = None) -> np.ndarray:
    if self.kind == IMAGE:
      if survive is not None:
        raise errors.UserError(f"model {self.name!r} hides images: `survive` applies to text models only")
      if text is not None:
        raise errors.UserError(f"model {self.name!r} hides images: send `secret` (an image), not `text`")
      if not secrets:
        raise errors.UserError(f"model {self.name!r} hides images: send a `secret` image")
      key = self._key(passphrase)
      with self.lock:
        return operations.hide_images(self.run, key, cover, [s for _, s in secrets], [n for n, _ in secrets],
                                      cover_name)
    if secrets:
      raise errors.UserError(f"model {self.name!r} hides text: send `text`, not a `secret` image")
    if text is None:
      raise errors.UserError(f"model {self.name!r} hides text: send a `text` field")
    with self.lock:
      return operations.hide_text(self.run, cover, text, passphrase, cover_name, survive)

  def extract(self, stego: np.ndarray, stego_name: str, passphrase: str | None, index: int = 0
              ) -> np.ndarray | str:
    if self.kind == TEXT:
      with self.lock:
        return operations.reveal_text(self.run, stego, passphrase, stego_name)
    key = self._key(passphrase)
    k = self.run.task.num_secrets(self.run.config)
    if not 0 <= index < k:
      raise errors.UserError(f"secret index {index} is out of range: model {self.name!r} hides {k} secret(s)")
    with self.lock:
      return operations.reveal_images(self.run, key, stego, stego_name)[index]

  def _key(self, passphrase: str | None):
    if operations.check_passphrase_wanted(self.run.config, passphrase is not None, self.name,
                                      "leave the passphrase empty"):
      if passphrase is None:
        raise errors.PassphraseError(f"the model {self.name!r} needs a passphrase: send the `passphrase` field")
    try:
      return operations.key_for(self.run, passphrase)
    except ValueError as e:
      raise errors.PassphraseError(str(e)) from e


def model_name(workdir: str) -> str:
  return os.path.basename(os.path.normpath(os.path.abspath(workdir)))


def load_models(workdirs: list[str], step: int | None = None) -> dict[str, ServedModel]:
  """{name: model} for the workdirs (name: the folder's name); `UserError` for a workdir that cannot be served."""
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  names = [model_name(w) for w in workdirs]
  for n in names:
    if names.count(n) > 1:
      raise errors.UserError(f"two workdirs are named {n!r}; serve folders with different names")
  models = {}
  for name, workdir in zip(names, workdirs):
    from jaxsteg import inference  # pylint: disable=g-import-not-at-top
    config = inference.load_config(workdir)
    try:
      task = tasks.get_task(config.task) if config.get("task") else None
    except errors.ConfigError:
      task = None   # load_run says what is wrong.
    if isinstance(task, tasks.BitChannel):
      run, kind = operations.load_run(workdir, tasks.BitChannel, operations.TEXT_NEEDS, step), TEXT
    else:
      run, kind = operations.load_run(workdir, tasks.ImageHider, "serve needs a model that hides images "
                                  "(configs/deepstego_*.py, keymixer_*.py, cloak_image_*.py) or text "
                                  "(configs/bits_*.py)", step), IMAGE
    models[name] = ServedModel(name, workdir, run, kind)
  return models


def warm_up(model: ServedModel, size: int) -> None:
  """Compiles the model's functions for size×size covers (the first request of that size is then fast)."""
  cover = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
  run = model.run
  with model.lock:
    if model.kind == IMAGE:
      key = operations.key_for(run, "warm-up" if model.needs_passphrase else None)
      k = run.task.num_secrets(run.config)
      stego = operations.hide_images(run, key, cover, [cover] * k, ["warm-up"] * k, "warm-up")
      operations.reveal_images(run, key, stego, "warm-up")
      return
    try:
      operations.reveal_text(run, operations.hide_text(run, cover, "warm-up", None, "warm-up"), None,
                                  "warm-up")
    except errors.UserError:
      pass   # A model that cannot carry text on noise has compiled all the same.
