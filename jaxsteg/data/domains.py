"""Two image domains and a message source for EncryptGAN: sources, cuts, message pasting, grain datasets.

A batch is {'x': clean X image, 'y': Y image, 'pasted': x with the message pasted, 'region': paste mask
(H, W, 1)}, all uint8 (images (H, W, 3)). The discriminators' real samples are the clean 'x' and 'y', never pasted.

Domain sets (`data.domains`):
- 'embedded' (offline): X = the 100 faces of scikit-image's LFW subset (25×25 grey, split by face: the first
  `embedded_train_faces` train, the rest held out); Y = 128×128 tiles of the embedded photographs (half size;
  training photographs for training, the held-out ones for evaluation); messages = scikit-learn's 8×8 digits
  (the first 1500 train, the other 297 held out).
- 'celeba_flowers' (TFDS): X = celeb_a, Y = oxford_flowers102, messages = svhn_cropped (train / eval splits).

Training cuts [src S8, CycleGAN]: centre square, resize to `load_size`, random `image_size` crop, random flip.
Evaluation cuts: centre square, resize to `load_size`, centre crop. Messages are resized to `message_size`;
in training a message is pasted with probability `paste_prob` at a random place, in evaluation always, centred.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import grain
import ml_collections
import numpy as np

from jaxsteg import errors
from jaxsteg.data import datasets
from jaxsteg.data import embedded
from jaxsteg.data import pipeline

TFDS_DOMAINS = {"celeba_flowers": ("celeb_a", "oxford_flowers102", "svhn_cropped")}
NUM_LFW_FACES = 100      # lfw_subset(): the first 100 images are faces, the next 100 are not.
NUM_TRAIN_DIGITS = 1500


@dataclasses.dataclass(frozen=True)
class Sources:
  x: Sequence[np.ndarray]
  y: Sequence[np.ndarray]
  messages: Sequence[np.ndarray]


@functools.lru_cache(maxsize=None)
def _lfw_faces() -> np.ndarray:
  from skimage import data  # pylint: disable=g-import-not-at-top
  faces = np.asarray(data.lfw_subset()[:NUM_LFW_FACES])
  return np.repeat(np.round(faces * 255.0).astype(np.uint8)[..., None], 3, axis=-1)


@functools.lru_cache(maxsize=None)
def _digits() -> np.ndarray:
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top
  d = np.asarray(load_digits().images)
  return np.repeat(np.round(d * (255.0 / 16.0)).astype(np.uint8)[..., None], 3, axis=-1)


@functools.lru_cache(maxsize=None)
def _photo_tiles(split: str, tile: int = 128) -> np.ndarray:
  return embedded.grid_crops([_half(img) for img in embedded.load_split(split)], tile)


def _half(img: np.ndarray) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  h, w = img.shape[:2]
  return np.asarray(Image.fromarray(img).resize((w // 2, h // 2), Image.Resampling.BOX))


def embedded_sources(split: str, train_faces: int) -> Sources:
  """The offline domains; `split` is 'train' or 'eval' (split by source image, never by crop)."""
  faces, digits = _lfw_faces(), _digits()
  if split == "train":
    return Sources(faces[:train_faces], _photo_tiles("train"), digits[:NUM_TRAIN_DIGITS])
  return Sources(faces[train_faces:], _photo_tiles("test"), digits[NUM_TRAIN_DIGITS:])


def get_sources(data: ml_collections.ConfigDict, split: str) -> Sources:
  if data.domains == "embedded":
    return embedded_sources(split, data.embedded_train_faces)
  if data.domains not in TFDS_DOMAINS:
    raise errors.ConfigError(f"unknown domains {data.domains!r}; use embedded or {', '.join(TFDS_DOMAINS)}")
  names = TFDS_DOMAINS[data.domains]
  data_dir = data.get("data_dir") or None
  return Sources(*(datasets.get_source(n, split, data_dir) for n in names))


def make_cut(load_size: int, size: int, train: bool, flip: bool
             ) -> Callable[[np.ndarray, np.random.Generator | None], np.ndarray]:
  """f(image, rng) -> (size, size, 3) uint8: centre square, resize to load_size, crop (random in training)."""

  def cut(img, rng):
    img = datasets.to_rgb(np.asarray(img), 3)
    side = min(img.shape[:2])
    img = datasets.resize(datasets.center_crop(img, (side, side)), load_size)
    off = load_size - size
    if train:
      y, x = int(rng.integers(0, off + 1)), int(rng.integers(0, off + 1))
    else:
      y = x = off // 2
    img = img[y:y + size, x:x + size]
    if train and flip and rng.random() < 0.5:
      img = img[:, ::-1]
    return np.ascontiguousarray(img)

  return cut


def message_image(img: np.ndarray, size: int) -> np.ndarray:
  img = datasets.to_rgb(np.asarray(img), 3)
  side = min(img.shape[:2])
  return datasets.resize(datasets.center_crop(img, (side, side)), size)


def paste(x: np.ndarray, message: np.ndarray | None, top: int, left: int) -> tuple[np.ndarray, np.ndarray]:
  """x with `message` pasted at (top, left) (None: nothing pasted), and the (H, W, 1) uint8 paste mask."""
  pasted, region = x.copy(), np.zeros(x.shape[:2] + (1,), np.uint8)
  if message is not None:
    m = message.shape[0]
    pasted[top:top + m, left:left + m] = message
    region[top:top + m, left:left + m] = 1
  return pasted, region


def _check(data: ml_collections.ConfigDict) -> None:
  if data.message_size > data.image_size:
    raise errors.ConfigError(f"message_size {data.message_size} exceeds image_size {data.image_size}")
  if data.load_size < data.image_size:
    raise errors.ConfigError(f"load_size {data.load_size} is smaller than image_size {data.image_size}")


def make_train_dataset(data: ml_collections.ConfigDict, *, global_batch: int, seed: int,
                       process_index: int | None = None, process_count: int | None = None
                       ) -> grain.MapDataset:
  """Infinite MapDataset of this process's batches; example i is a pure function of (seed, i)."""
  _check(data)
  src = get_sources(data, "train")
  cut = make_cut(data.load_size, data.image_size, True, data.flip)
  size, msize = data.image_size, data.message_size

  def make_example(index, rng: np.random.Generator):
    del index  # grain derives rng from (seed, index).
    x = cut(src.x[int(rng.integers(len(src.x)))], rng)
    y = cut(src.y[int(rng.integers(len(src.y)))], rng)
    message = None
    top = left = 0
    if rng.random() < data.paste_prob:
      message = message_image(src.messages[int(rng.integers(len(src.messages)))], msize)
      top, left = int(rng.integers(0, size - msize + 1)), int(rng.integers(0, size - msize + 1))
    pasted, region = paste(x, message, top, left)
    return {"x": x, "y": y, "pasted": pasted, "region": region}

  return pipeline.example_stream(make_example, seed=seed, global_batch=global_batch,
                                 process_index=process_index, process_count=process_count)


@dataclasses.dataclass
class DomainEvalSet(pipeline.EvalSet):
  """Held-out triples: example i = (X image i, Y image i mod |Y|, message i mod |M| pasted at the centre)."""
  sources: Sources
  data: ml_collections.ConfigDict
  length: int

  def example(self, i: int) -> dict[str, np.ndarray]:
    d = self.data
    cut = make_cut(d.load_size, d.image_size, False, False)
    x = cut(self.sources.x[i], None)
    y = cut(self.sources.y[i % len(self.sources.y)], None)
    message = message_image(self.sources.messages[i % len(self.sources.messages)], d.message_size)
    off = (d.image_size - d.message_size) // 2
    pasted, region = paste(x, message, off, off)
    return {"x": x, "y": y, "pasted": pasted, "region": region}


def make_eval_set(data: ml_collections.ConfigDict) -> DomainEvalSet:
  _check(data)
  src = get_sources(data, "eval")
  n = len(src.x) if not data.get("eval_max_examples") else min(len(src.x), data.eval_max_examples)
  return DomainEvalSet(src, data, n)
