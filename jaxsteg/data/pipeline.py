"""Grain pipelines: cover/secret pairing, per-process reading, batching, padded evaluation.

Training examples are drawn with replacement: example i of the stream is a pure function of (seed, i), computed
by grain's `random_map`. The iterator's state is therefore just the next index, which the checkpoint saves, so a
resumed run sees exactly the batches an uninterrupted run would. Each process computes only its own rows of
each global batch: the contiguous block that lands on its devices (`process_batches`), so global row r of
batch b is example b·B + r whatever the number of processes, and per-row randomness in a step (noise, keys)
is the same as in a single-process run. TFDS sources are also split per
process (`tfds.split_for_jax_process`): each host reads its own share of the records, as on a pod. With
`data.split_per_process = False` every process samples from the whole split instead, which makes the global
batches independent of the process count (the in-memory embedded data always behaves that way).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from typing import TYPE_CHECKING, Iterator

import ml_collections
import numpy as np

from jaxsteg import errors
from jaxsteg.data import datasets
from jaxsteg.data import embedded

if TYPE_CHECKING:   # grain is imported where datasets are made, not by a command that only loads a model.
  import grain


def _process_info(process_index, process_count):
  if process_index is None or process_count is None:
    import jax  # pylint: disable=g-import-not-at-top
    process_index, process_count = jax.process_index(), jax.process_count()
  return process_index, process_count


@functools.cache
def _block_rows_type() -> type:
  """`BlockRows`, a grain.MapDataset: made on first use, so that importing this module (every task does, and
  the `jaxsteg` command loads a task to hide an image) does not import grain."""
  import grain  # pylint: disable=g-import-not-at-top

  class BlockRows(grain.MapDataset):
    """Rows [offset, offset + block) of every consecutive `stride` elements of the parent, in order."""

    def __init__(self, parent: grain.MapDataset, stride: int, offset: int, block: int):
      super().__init__(parent)
      self._stride, self._offset, self._block = stride, offset, block

    def __len__(self) -> int:
      return len(self._parent) // self._stride * self._block

    def __getitem__(self, index):
      if isinstance(index, slice):
        return self.slice(index)
      b, j = divmod(int(index), self._block)
      return self._parent[b * self._stride + self._offset + j]

    def __str__(self) -> str:
      return f"BlockRows(stride={self._stride}, offset={self._offset}, block={self._block})"

  return BlockRows


def process_batches(ds: grain.MapDataset, global_batch: int, process_index: int | None = None,
                    process_count: int | None = None) -> grain.MapDataset:
  """This process's batches of a stream of examples: rows [p·b, (p+1)·b) of each global batch of
  `global_batch` consecutive examples (b = global_batch / process_count), which is the block of rows that
  `jax.make_array_from_process_local_data` places on this process's devices."""
  pi, pc = _process_info(process_index, process_count)
  if global_batch % pc:
    raise errors.ConfigError(f"global batch {global_batch} does not divide by {pc} processes")
  local = global_batch // pc
  rows = ds if pc == 1 else _block_rows_type()(ds, global_batch, pi * local, local)
  return rows.batch(local, drop_remainder=True)


def example_stream(make_example, *, seed: int, global_batch: int, process_index: int | None = None,
                   process_count: int | None = None) -> grain.MapDataset:
  """This process's batches of the infinite stream whose example i is make_example(i, rng(seed, i))."""
  import grain  # pylint: disable=g-import-not-at-top
  ds = grain.MapDataset.range(sys.maxsize).seed(seed).random_map(make_example)
  return process_batches(ds, global_batch, process_index, process_count)


def eval_source(data: ml_collections.ConfigDict, name: str):
  """Held-out images of dataset `name` and their evaluation cut. Embedded data: a fixed grid of crops of the
  held-out photographs; TFDS: the eval split (whole, on every process)."""
  if datasets.get_spec(name).tfds_name is None:
    images = embedded.grid_crops(datasets.get_source(name, "eval"), data.eval_size)
  else:
    images = datasets.get_source(name, "eval", data.get("data_dir"))
  return images, preprocess_fn(data, name, train=False)


def train_source(data: ml_collections.ConfigDict, name: str, process_index: int, process_count: int):
  """The training images of dataset `name` that this process samples from."""
  split = data.get("split_per_process", True)
  return datasets.get_source(name, "train", data.get("data_dir"), process_index=process_index if split else 0,
                             process_count=process_count if split else 1)


def preprocess_fn(data: ml_collections.ConfigDict, name: str, *, train: bool):
  """The config's cut of dataset `name`: crop mode, size, channels and (training only) augmentation."""
  return datasets.make_preprocess(
      datasets.get_spec(name), data.image_size if train else data.eval_size, data.channels, train,
      data.flip and train, crop=data.get("crop") or None, load_size=data.get("load_size", 0),
      rotate_degrees=data.get("rotate_degrees", 0.0) if train else 0.0)


def channel_gain(image: np.ndarray, rng: np.random.Generator, max_gain: float, max_offset: float) -> np.ndarray:
  """[inf] Per-channel gain in [1/max_gain, max_gain] (log-uniform) and offset in ±max_offset levels, clipped
  to 8 bits: colour statistics beyond those of a few training photographs, and saturated channels (deep blue
  skies, saturated petals), where a container can only move one way."""
  c = image.shape[-1]
  g = np.exp(rng.uniform(-np.log(max_gain), np.log(max_gain), c))
  o = rng.uniform(-max_offset, max_offset, c)
  return np.clip(np.round(image.astype(np.float32) * g + o), 0, 255).astype(np.uint8)


def augment_fn(data: ml_collections.ConfigDict):
  """(image, rng) -> image: the config's colour augmentation of training images, `data.channel_gain` =
  (max gain, max offset, probability) [inf]; the identity (drawing no random numbers, so streams without it
  are unchanged) when unset."""
  gain = tuple(data.get("channel_gain", ()) or ())
  if not gain:
    return lambda image, rng: image
  if len(gain) != 3 or not (gain[0] >= 1.0 and gain[1] >= 0.0 and 0.0 <= gain[2] <= 1.0):
    raise errors.ConfigError(f"data.channel_gain must be (max gain >= 1, max offset >= 0, probability in [0, 1]), "
                     f"got {gain}")

  def augment(image, rng):
    return channel_gain(image, rng, gain[0], gain[1]) if rng.random() < gain[2] else image

  return augment


def make_train_dataset(data: ml_collections.ConfigDict, *, num_secrets: int, global_batch: int, seed: int,
                       process_index: int | None = None, process_count: int | None = None
                       ) -> grain.MapDataset:
  """Infinite MapDataset of this process's training batches {'cover': (b,H,W,C), 'secret': (b,K,H,W,C)}."""
  pi, pc = _process_info(process_index, process_count)
  if global_batch % pc:
    raise errors.ConfigError(f"global batch {global_batch} does not divide by {pc} processes")
  covers = train_source(data, data.cover, pi, pc)
  secrets = train_source(data, data.secret, pi, pc)
  cut_cover = preprocess_fn(data, data.cover, train=True)
  cut_secret = preprocess_fn(data, data.secret, train=True)
  augment = augment_fn(data)

  def make_example(index, rng: np.random.Generator):
    del index  # The example is a function of its rng alone, which grain derives from (seed, index).
    cover = augment(cut_cover(covers[int(rng.integers(len(covers)))], rng), rng)
    secret = np.stack([augment(cut_secret(secrets[int(rng.integers(len(secrets)))], rng), rng)
                       for _ in range(num_secrets)])
    return {"cover": cover, "secret": secret}

  return example_stream(make_example, seed=seed, global_batch=global_batch, process_index=pi,
                        process_count=pc)


def make_train_iter(ds: grain.MapDataset, state: dict | None = None):
  """A checkpointable iterator over `ds`, optionally restored to `state` (from `iterator.get_state()`)."""
  import grain  # pylint: disable=g-import-not-at-top
  it = iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=2, prefetch_buffer_size=4)))
  if state is not None:
    it.set_state(state)
  return it


class EvalSet:
  """The fixed held-out examples of a task: `length` of them, `example(i)` a dict of numpy arrays (the same on
  every call and every process). Every family's held-out set derives from this; evaluators use the helpers."""

  length: int

  def example(self, i: int) -> dict[str, np.ndarray]:
    raise NotImplementedError

  def stacked(self, indices) -> dict[str, np.ndarray]:
    """Examples `indices` stacked into arrays (N, ...)."""
    rows = [self.example(int(i)) for i in indices]
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}

  def spread(self, n: int | None) -> np.ndarray:
    """Indices of `n` examples spread evenly over the set (so they cover every source image); all when n is
    0 or None."""
    n = self.length if not n else min(n, self.length)
    return np.unique(np.linspace(0, self.length - 1, n).round().astype(int))


@dataclasses.dataclass
class PairEvalSet(EvalSet):
  """The fixed held-out pairs: example i = (cover i, secrets of i), all (H, W, C) uint8."""
  covers: object
  secrets: object
  num_secrets: int
  size: int
  length: int
  same_source: bool
  _cut_cover: object = None
  _cut_secret: object = None

  def secret_index(self, i: int, k: int) -> int:
    n = len(self.secrets)
    # Shift by a fraction of the set so that a secret comes from another part (another source image) of
    # the held-out set than its cover; with different datasets no shift is needed for secret 0.
    shift = (k + 1) * n // (self.num_secrets + 1) if self.same_source else k * n // self.num_secrets
    return (i + shift) % n

  def example(self, i: int) -> dict[str, np.ndarray]:
    cover = self._cut_cover(self.covers[i], None)
    secret = np.stack([self._cut_secret(self.secrets[self.secret_index(i, k)], None)
                       for k in range(self.num_secrets)])
    return {"cover": cover, "secret": secret}


def make_eval_set(data: ml_collections.ConfigDict, *, num_secrets: int) -> PairEvalSet:
  """Held-out pairs. Embedded data: a grid of crops of the test photographs; TFDS: the eval split."""
  covers, cut_cover = eval_source(data, data.cover)
  secrets, cut_secret = eval_source(data, data.secret) if data.secret != data.cover else (covers, cut_cover)
  length = len(covers) if not data.get("eval_max_examples") else min(len(covers), data.eval_max_examples)
  return PairEvalSet(covers, secrets, num_secrets, data.eval_size, length, data.secret == data.cover,
                     cut_cover, cut_secret)


def indexed_batch(eval_set: EvalSet, indices, global_batch: int, process_index: int | None = None,
                  process_count: int | None = None) -> dict[str, np.ndarray]:
  """This process's rows of a global batch holding examples `indices`, zero-padded; 'mask' marks real rows."""
  pi, pc = _process_info(process_index, process_count)
  if global_batch % pc:
    raise errors.ConfigError(f"eval batch {global_batch} does not divide by {pc} processes")
  local = global_batch // pc
  template = eval_set.example(0)
  batch = {k: np.zeros((local,) + v.shape, v.dtype) for k, v in template.items()}
  batch["mask"] = np.zeros((local,), np.float32)
  for r, j in enumerate(range(pi * local, (pi + 1) * local)):
    if j < len(indices):
      for k, v in eval_set.example(int(indices[j])).items():
        batch[k][r] = v
      batch["mask"][r] = 1.0
  return batch


def eval_batches(eval_set: EvalSet, global_batch: int, process_index: int | None = None,
                 process_count: int | None = None) -> Iterator[dict[str, np.ndarray]]:
  """This process's rows of each global eval batch, the last one padded; 'mask' marks real examples."""
  for start in range(0, eval_set.length, global_batch):
    indices = range(start, min(start + global_batch, eval_set.length))
    yield indexed_batch(eval_set, indices, global_batch, process_index, process_count)


def grid_indices(eval_set: EvalSet, n: int) -> np.ndarray:
  """`n` examples spread evenly over the held-out set (so a grid shows every source image)."""
  return eval_set.spread(n)
