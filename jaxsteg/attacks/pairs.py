"""Cover/container pairs for steganalysis, from any trained hiding model or a classical embedder.

Covers are crops of the embedded photographs, split by source photograph: detectors train on crops of the
training photographs (as many random crops as asked for) and are scored on the fixed grid of crops of the
held-out photographs, never on a crop of a photograph they trained on. Each container is made from its own cover
(SRNet's pairing: a batch holds both), so a detector can only learn the embedding, not the image content.

A source is named by a spec: the workdir of a jaxsteg run (any family, by capability: an `ImageHider` hides a
secret crop of the same split, a `BitChannel` random bits through its encoder (hide-text's per-container
refinement is not applied in bulk), a `DomainCipher` disguises a pasted message, its covers then being the real
images of the domain the disguise imitates), or a classical embedder `lsbr:RATE`, `lsbm:RATE`, `hill:RATE`
(`jaxsteg.attacks.embedders`, RATE in bits per pixel).
Every source of one benchmark uses the same held-out crops and seeds, so their rows compare.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from jaxsteg import errors

DEFAULT_SIZE = 64           # Side of the crops detectors see (held-out grid: 142 crops of 3 photographs).
CHUNK = 64                  # Containers made per call of a model (bounded memory, one compiled shape).
ANALYSIS_PASSPHRASE = "jaxsteg attack suite"   # Passphrase-mode models: any passphrase gives a trained key.
CLASSICAL = ("lsbr", "lsbm", "hill")


@dataclasses.dataclass
class Pairs:
  """N (cover, container) pairs, uint8 (N, H, W, C), and each pair's source image index (N,): the photograph
  of a crop, or the Y-domain image of a disguise."""
  covers: np.ndarray
  containers: np.ndarray
  groups: np.ndarray


def photo_crops(split: str, n: int | None, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(crops (n, size, size, 3) uint8, source photograph index (n,)) of the embedded 'train' or 'test' photographs:
  n random crops (a uniformly drawn photograph, a uniform position), or, with n None, the fixed grid of
  non-overlapping crops (the held-out set of every evaluation)."""
  from jaxsteg.data import embedded  # pylint: disable=g-import-not-at-top
  photos = embedded.load_split(split)
  if n is None:
    crops, groups = [], []
    for g, photo in enumerate(photos):
      grid = embedded.grid_crops([photo], size)
      crops.append(grid)
      groups += [g] * len(grid)
    return np.concatenate(crops), np.asarray(groups)
  rng = np.random.default_rng(seed)
  groups = rng.integers(0, len(photos), n)
  out = np.empty((n, size, size, 3), np.uint8)
  for i, g in enumerate(groups):
    h, w = photos[g].shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    out[i] = photos[g][y:y + size, x:x + size]
  return out, groups


def _other_crops(crops: np.ndarray, seed: int, held_out: bool) -> np.ndarray:
  """Secrets for the covers `crops`: a fixed shift by half the set on the held-out grid (another part of the set,
  mostly another photograph), a random permutation in training."""
  if held_out:
    return crops[(np.arange(len(crops)) + len(crops) // 2) % len(crops)]
  return crops[np.random.default_rng(seed + 1).permutation(len(crops))]


def _chunks(n: int):
  for start in range(0, n, CHUNK):
    yield slice(start, min(start + CHUNK, n))


class Source:
  """Makes containers for covers; `pairs(split, n, seed)` is what detectors and evaluators use."""

  name: str
  size: int = DEFAULT_SIZE

  def covers(self, split: str, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return photo_crops(split, n, self.size, seed)

  def containers(self, covers: np.ndarray, split: str, seed: int, held_out: bool) -> np.ndarray:
    raise NotImplementedError

  def group_name(self, group: int) -> str:
    """The name of a held-out pair's group: its photograph."""
    from jaxsteg.data import embedded  # pylint: disable=g-import-not-at-top
    return embedded.TEST_IMAGES[int(group)]

  def pairs(self, split: str, n: int | None = None, seed: int = 0) -> Pairs:
    """n pairs of `split` ('train' or 'test'); n None: the fixed held-out set (the same for every source)."""
    covers, groups = self.covers(split, n, seed)
    return Pairs(covers, self.containers(covers, split, seed, held_out=n is None), groups)


class ClassicalSource(Source):
  """A classical embedder at a relative payload: lsbr (LSB replacement), lsbm (LSB matching), hill (HILL)."""

  def __init__(self, method: str, rate: float, size: int = DEFAULT_SIZE):
    if method not in CLASSICAL:
      raise errors.ConfigError(f"unknown classical embedder {method!r}; use one of {', '.join(CLASSICAL)}")
    if not 0.0 < rate <= 1.0:
      raise errors.ConfigError(f"embedding rate must be in (0, 1] bits per pixel, got {rate}")
    self.method, self.rate, self.size = method, rate, size
    self.name = f"{method}:{rate:g}"

  def containers(self, covers, split, seed, held_out):
    from jaxsteg.attacks import embedders  # pylint: disable=g-import-not-at-top
    return embedders.embed(self.method, covers, self.rate, seed=seed + (7 if held_out else 0))


class ModelSource(Source):
  """A frozen trained model (`from_workdir`: its latest checkpoint, on one device)."""

  def __init__(self, task, config, params, *, name: str, step: int, size: int = DEFAULT_SIZE,
               workdir: str | None = None):
    from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
    self.task, self.config, self.params, self.name, self.step, self.workdir = task, config, params, name, step, workdir
    self.kind = next((c for c in (tasks.DomainCipher, tasks.BitChannel, tasks.ImageHider)
                      if isinstance(self.task, c)), None)
    if self.kind is None:
      raise errors.RunError(f"{name} is a {config.task!r} model, which hides nothing an attack can test (no "
                            f"ImageHider, BitChannel or DomainCipher capability)")
    if self.kind is tasks.DomainCipher:
      size = self.config.data.eval_size   # The disguise imitates the domain's images at the model's size.
    multiple = getattr(self.task, "size_multiple", lambda c: 1)(self.config)
    if size % multiple:
      raise errors.ConfigError(f"crop size {size} is not a multiple of {multiple}, which {self.name} needs")
    self.size = size
    self.key = None
    if isinstance(self.task, tasks.Keyed):
      self.key = self.task.key_for_use(self.config, self.params,
                                       ANALYSIS_PASSPHRASE if tasks.needs_passphrase(self.task, self.config)
                                       else None)

  @classmethod
  def from_workdir(cls, workdir: str, size: int = DEFAULT_SIZE) -> "ModelSource":
    from jaxsteg import inference  # pylint: disable=g-import-not-at-top
    run = inference.load_run(workdir)
    return cls(run.task, run.config, run.params, name=os.path.basename(os.path.normpath(workdir)), step=run.step,
               size=size, workdir=workdir)

  # -- DomainCipher: covers are the real images of the Y domain; containers disguise X images with a message.
  def _domain_inputs(self, split: str, n: int | None, seed: int) -> dict[str, np.ndarray]:
    from jaxsteg.data import domains  # pylint: disable=g-import-not-at-top
    data = self.config.data
    sources = domains.get_sources(data, "train" if split == "train" else "eval")
    cut = domains.make_cut(data.load_size, data.image_size if split == "train" else data.eval_size,
                           split == "train", False)
    rng = np.random.default_rng(seed)
    # Held out: every held-out X image once, the Y images cycled (as the task's own evaluation set pairs them;
    # the embedded domains hold only 5 held-out Y images, so covers repeat there).
    count = max(len(sources.x), len(sources.y)) if n is None else n
    y_idx = np.arange(count) % len(sources.y) if n is None else rng.integers(0, len(sources.y), n)
    x_idx = np.arange(count) % len(sources.x) if n is None else rng.integers(0, len(sources.x), n)
    m_idx = np.arange(count) % len(sources.messages) if n is None else rng.integers(0, len(sources.messages), n)
    side = self.task.message_size(self.config)
    ys = np.stack([cut(sources.y[int(i)], rng) for i in y_idx])
    xs = np.stack([cut(sources.x[int(i)], rng) for i in x_idx])
    pasted = np.stack([self.task.paste_message(x, sources.messages[int(j)], side)[0] for x, j in zip(xs, m_idx)])
    return {"y": ys, "x": xs, "pasted": pasted, "y_index": y_idx}

  def group_name(self, group: int) -> str:
    from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
    return f"domain image {int(group)}" if self.kind is tasks.DomainCipher else super().group_name(group)

  def pairs(self, split: str, n: int | None = None, seed: int = 0) -> Pairs:
    import jax  # pylint: disable=g-import-not-at-top
    # The model runs on the one device its parameters are on, whatever mesh the caller trains under (a CNN
    # detector makes its pool of pairs inside the training loop's mesh).
    device = next(iter(jax.tree.leaves(self.params)[0].devices())) if hasattr(
        jax.tree.leaves(self.params)[0], "devices") else jax.devices()[0]
    with jax.set_mesh(jax.sharding.Mesh(np.asarray([device]), ("data",))):
      return self._pairs(split, n, seed)

  def _pairs(self, split: str, n: int | None, seed: int) -> Pairs:
    from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
    if self.kind is not tasks.DomainCipher:
      return super().pairs(split, n, seed)
    inputs = self._domain_inputs(split, n, seed)
    out = np.empty_like(inputs["y"])
    for i in range(len(out)):
      public = self.task.key_from_image(self.config, self.params, inputs["y"][i])
      private = self.task.key_from_image(self.config, self.params, inputs["x"][i])
      out[i] = self.task.encrypt_image(self.config, self.params, inputs["pasted"][i], public, private)
    return Pairs(inputs["y"], out, np.asarray(inputs["y_index"]))

  def containers(self, covers, split, seed, held_out):
    from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
    out = np.empty_like(covers)
    if self.kind is tasks.BitChannel:
      from jaxsteg.payload import channel  # pylint: disable=g-import-not-at-top
      field = tasks.bit_shape(self.task, self.config, *covers.shape[1:3])
      bits = np.random.default_rng(seed + 3).integers(0, 2, covers.shape[:1] + field, dtype=np.uint8)
      # The encoder's own 8-bit containers of random bits (CHUNK per call, one compiled shape: the last chunk
      # is padded), not refined: hide-text's refinement (up to `eval.refine_steps` Adam steps on the pixels,
      # each a pass of the decoder and its gradient) costs ~90 decoder passes per container, which made a bit
      # model's pool of pairs take longer than every other source of a benchmark together. `describe` says so.
      fns = channel.unrefined(channel.host_channel(self.config))
      for sl in _chunks(len(covers)):
        c, b = covers[sl].astype(np.float32) / 255.0, bits[sl].astype(np.float32)
        pad = CHUNK - len(c)
        if pad:
          c, b = np.concatenate([c, np.repeat(c[:1], pad, 0)]), np.concatenate([b, np.repeat(b[:1], pad, 0)])
        enc = np.asarray(fns.encode(self.params, c, b))[:CHUNK - pad]
        out[sl] = np.round(enc * 255.0).astype(np.uint8)
      return out
    from jaxsteg.tasks import common  # pylint: disable=g-import-not-at-top
    secrets = _other_crops(covers, seed, held_out)
    k = self.task.num_secrets(self.config)
    fns = self.task.image_functions(self.config)
    for sl in _chunks(len(covers)):
      s = np.repeat(secrets[sl][:, None], k, axis=1).astype(np.float32) / 255.0
      out[sl] = common.to_uint8(fns.hide(self.params, covers[sl].astype(np.float32) / 255.0, s, self.key))
    return out


def source(spec: str, size: int = DEFAULT_SIZE) -> Source:
  """A source from a spec: a workdir path, or `method:rate` for a classical embedder (e.g. `lsbm:0.4`)."""
  head, sep, tail = spec.partition(":")
  if sep and head in CLASSICAL and not os.path.isdir(spec):
    try:
      rate = float(tail)
    except ValueError as e:
      raise errors.ConfigError(f"classical embedder {spec!r}: the rate after ':' must be a number") from e
    return ClassicalSource(head, rate, size)
  if not os.path.isdir(spec):
    raise errors.RunError(f"{spec!r} is neither a workdir nor a classical embedder ({', '.join(CLASSICAL)}:RATE)")
  return ModelSource.from_workdir(spec, size)


def describe(src: Source) -> dict[str, Any]:
  """What a report says about a source."""
  if isinstance(src, ClassicalSource):
    return {"name": src.name, "kind": "classical", "method": src.method, "rate_bpp": src.rate, "size": src.size}
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  out = {"name": src.name, "kind": src.kind.__name__, "task": src.config.task, "step": src.step,
         "workdir": src.workdir, "size": src.size}
  if src.kind is tasks.BitChannel:
    out["containers"] = "the encoder's 8-bit containers of random bits, not refined"
  return out
