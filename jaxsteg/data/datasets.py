"""Dataset names -> where the images come from and how they are cut to the model's size.

A source is any random-access sequence of (H, W, C) uint8 images. The embedded default is in memory; TFDS
datasets are read with `tfds.data_source` (ArrayRecord, no TensorFlow needed to read). Preparing TFDS data needs
TensorFlow and a network, which is a separate step (see README "Data").
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from jaxsteg.data import embedded


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """How to read one dataset.

  Attributes:
    tfds_name: TFDS builder name, or None for the in-memory embedded data.
    train_split / eval_split: TFDS split strings (or 'train'/'test' for embedded).
    image_key: feature holding the image.
    channels: channels of the stored images (grey images are repeated to RGB when the model wants 3).
    crop: 'random' takes native-resolution random crops (large photos); 'resize' resizes the whole image
      (after an optional centre crop) to the model size.
    center_crop: (h, w) centre crop applied before resizing, or None.
  """
  tfds_name: str | None
  train_split: str
  eval_split: str
  image_key: str = "image"
  channels: int = 3
  crop: str = "resize"
  center_crop: tuple[int, int] | None = None


SPECS: dict[str, DatasetSpec] = {
    "embedded": DatasetSpec(None, "train", "test", crop="random"),
    "stl10": DatasetSpec("stl10", "unlabelled+train", "test"),
    "imagenet2012": DatasetSpec("imagenet2012", "train", "validation", crop="random"),
}


class _ImageView(Sequence):
  """Exposes one feature of a TFDS data source as a sequence of images."""

  def __init__(self, source, key: str):
    self._source, self._key = source, key

  def __len__(self) -> int:
    return len(self._source)

  def __getitem__(self, i: int) -> np.ndarray:
    return np.asarray(self._source[int(i)][self._key])


def get_spec(name: str) -> DatasetSpec:
  if name not in SPECS:
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(SPECS))}")
  return SPECS[name]


def get_source(name: str, split: str, data_dir: str | None = None) -> Sequence[np.ndarray]:
  """Random-access images of `name`'s train or eval split ('train' or 'eval')."""
  spec = get_spec(name)
  split_name = spec.train_split if split == "train" else spec.eval_split
  if spec.tfds_name is None:
    return embedded.load_split(split_name)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  parts = split_name.split("+")
  try:
    sources = [tfds.data_source(spec.tfds_name, split=p, data_dir=data_dir) for p in parts]
  except Exception as e:  # tfds raises several types for "not prepared"
    raise FileNotFoundError(
        f"TFDS dataset {spec.tfds_name!r} split {split_name!r} is not prepared under "
        f"{data_dir or '$TFDS_DATA_DIR (default ~/tensorflow_datasets)'}: {e}") from e
  views = [_ImageView(s, spec.image_key) for s in sources]
  return views[0] if len(views) == 1 else _Concat(views)


class _Concat(Sequence):
  """Concatenation of random-access sequences."""

  def __init__(self, parts):
    self._parts = parts
    self._ends = np.cumsum([len(p) for p in parts])

  def __len__(self) -> int:
    return int(self._ends[-1])

  def __getitem__(self, i: int):
    k = int(np.searchsorted(self._ends, i, side="right"))
    start = 0 if k == 0 else int(self._ends[k - 1])
    return self._parts[k][int(i) - start]


def to_rgb(img: np.ndarray, channels: int) -> np.ndarray:
  """Makes an (H, W, C) uint8 image have `channels` channels (grey is repeated, alpha dropped)."""
  if img.ndim == 2:
    img = img[..., None]
  if img.shape[-1] == channels:
    return img
  if channels == 3 and img.shape[-1] == 1:
    return np.repeat(img, 3, axis=-1)
  if channels == 3 and img.shape[-1] == 4:
    return img[..., :3]
  if channels == 1 and img.shape[-1] == 3:
    return np.round(img @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None]
  raise ValueError(f"cannot convert an image with {img.shape[-1]} channels to {channels}")


def resize(img: np.ndarray, size: int) -> np.ndarray:
  """Area-style resize of an (H, W, C) uint8 image to size×size with Pillow."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if img.shape[0] == size and img.shape[1] == size:
    return img
  mode_img = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
  out = np.asarray(mode_img.resize((size, size), Image.Resampling.BICUBIC if img.shape[0] < size
                                   else Image.Resampling.BOX))
  return out[..., None] if out.ndim == 2 else out


def center_crop(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
  h, w = img.shape[:2]
  ch, cw = min(hw[0], h), min(hw[1], w)
  y, x = (h - ch) // 2, (w - cw) // 2
  return img[y:y + ch, x:x + cw]


def make_preprocess(spec: DatasetSpec, size: int, channels: int, train: bool, flip: bool
                    ) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
  """Returns f(image, rng) -> (size, size, channels) uint8, the training or evaluation cut of one image."""

  def preprocess(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = to_rgb(np.asarray(img), channels)
    if spec.center_crop is not None:
      img = center_crop(img, spec.center_crop)
    h, w = img.shape[:2]
    if spec.crop == "random" and h >= size and w >= size:
      if train:
        y, x = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
      else:
        y, x = (h - size) // 2, (w - size) // 2
      img = img[y:y + size, x:x + size]
    else:
      side = min(h, w)
      img = resize(center_crop(img, (side, side)), size)
    if train and flip and rng.random() < 0.5:
      img = img[:, ::-1]
    return np.ascontiguousarray(img)

  return preprocess
