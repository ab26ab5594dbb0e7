"""Dataset names -> where the images come from and how they are cut to the model's size.

A source is any random-access sequence of (H, W, C) uint8 images. The embedded default is in memory; TFDS
datasets are read with `tfds.data_source` (ArrayRecord, no TensorFlow needed to read). Preparing TFDS data needs
TensorFlow and a network, which is a separate step (see README "Data").
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from jaxsteg import errors
from jaxsteg.data import embedded


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """How to read one dataset.

  Attributes:
    tfds_name: TFDS builder name, or None for the in-memory embedded data.
    train_split / eval_split: TFDS split strings ('a+b' concatenates, 'train[:90%]' slices).
    image_key: feature holding the image.
    channels: channels of the stored images (grey is repeated to RGB when the model wants 3, and back).
    crop: how an image becomes size×size (a config's `data.crop` overrides it):
      'random'      native-resolution crop, random in training and central in evaluation (large photographs);
      'resize'      central square, resized to the model size;
      'resize_crop' central square resized to `load_size`, then a random (training) or central crop (CycleGAN);
      'letterbox'   the whole image fitted inside the square, aspect kept, black bars.
    center_crop: (h, w) centre crop applied first (e.g. the face region of aligned CelebA), or None.
    note: what the dataset is used for here.
  """
  tfds_name: str | None
  train_split: str
  eval_split: str
  image_key: str = "image"
  channels: int = 3
  crop: str = "resize"
  center_crop: tuple[int, int] | None = None
  note: str = ""


CROPS = ("random", "resize", "resize_crop", "letterbox")

SPECS: dict[str, DatasetSpec] = {
    "embedded": DatasetSpec(None, "train", "test", crop="random",
                            note="8 scikit-image photographs (train), 3 others (held out); offline default"),
    "stl10": DatasetSpec("stl10", "unlabelled+train", "test", note="96x96 covers and secrets (Baluja, KeyMixer)"),
    "celeb_a": DatasetSpec("celeb_a", "train", "test", center_crop=(178, 178),
                           note="aligned 218x178 faces, central 178x178 square [inf]; EncryptGAN domain X"),
    "oxford_flowers102": DatasetSpec("oxford_flowers102", "train+validation", "test",
                                     note="flowers of any size; EncryptGAN domain Y"),
    "svhn_cropped": DatasetSpec("svhn_cropped", "train+extra", "test", note="32x32 digits; EncryptGAN messages"),
    "fashion_mnist": DatasetSpec("fashion_mnist", "train", "test", channels=1,
                                 note="28x28 grey covers; ImageCloak text variant"),
    "cats_vs_dogs": DatasetSpec("cats_vs_dogs", "train[:90%]", "train[90%:]",
                                note="one split only: the last 10% is held out [inf]; message images"),
    "imagenet2012": DatasetSpec("imagenet2012", "train", "validation", crop="random",
                                note="needs the manual download (TFDS instructions); 224x224 configs"),
}


class _ImageView(Sequence):
  """Exposes one feature of a TFDS data source as a sequence of images (records are read one at a time)."""

  def __init__(self, source, key: str):
    self._source, self._key = source, key

  def __len__(self) -> int:
    return len(self._source)

  def __getitem__(self, i: int) -> np.ndarray:
    return np.asarray(self._source[int(i)][self._key])


def get_spec(name: str) -> DatasetSpec:
  if name not in SPECS:
    raise errors.ConfigError(f"unknown dataset {name!r}; known: {', '.join(sorted(SPECS))}")
  return SPECS[name]


def process_split(split: str, process_index: int, process_count: int):
  """This process's even share of `split` (`tfds.split_for_jax_process` with explicit indices)."""
  if process_count == 1:
    return split
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  return tfds.split_for_jax_process(split, process_index=process_index, process_count=process_count)


def get_source(name: str, split: str, data_dir: str | None = None, *, process_index: int = 0,
               process_count: int = 1) -> Sequence[np.ndarray]:
  """Random-access images of `name`'s 'train' or 'eval' split.

  With process_count > 1 each process gets its own even share of a TFDS split (every host reads different
  records); the embedded data is small and in memory, so every process sees all of it.
  """
  spec = get_spec(name)
  split_name = spec.train_split if split == "train" else spec.eval_split
  if spec.tfds_name is None:
    return embedded.load_split(split_name)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  where = data_dir or "$TFDS_DATA_DIR (default ~/tensorflow_datasets)"
  try:
    source = tfds.data_source(spec.tfds_name, split=process_split(split_name, process_index, process_count),
                              data_dir=data_dir or None)
  except Exception as e:  # tfds raises several types for "not prepared"
    raise FileNotFoundError(
        f"TFDS dataset {spec.tfds_name!r} split {split_name!r} is not prepared under {where}; prepare it once "
        f"with `python -m jaxsteg.data.prepare {name} --data_dir DIR` ({type(e).__name__}: {e})") from e
  if len(source) == 0:
    raise FileNotFoundError(f"TFDS dataset {spec.tfds_name!r} split {split_name!r} under {where} is empty "
                            f"for process {process_index} of {process_count}")
  return _ImageView(source, spec.image_key)


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


def letterbox(img: np.ndarray, size: int) -> np.ndarray:
  """Fits the whole image inside size×size (aspect kept), centred on black."""
  h, w = img.shape[:2]
  scale = size / max(h, w)
  nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pil = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
  small = np.asarray(pil.resize((nw, nh), Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX))
  small = small[..., None] if small.ndim == 2 else small
  out = np.zeros((size, size, img.shape[-1]), np.uint8)
  y, x = (size - nh) // 2, (size - nw) // 2
  out[y:y + nh, x:x + nw] = small
  return out


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
  """Rotates about the centre, same size, reflecting at the border (no black corners to learn from)."""
  from scipy import ndimage  # pylint: disable=g-import-not-at-top
  out = ndimage.rotate(img.astype(np.float32), degrees, axes=(1, 0), reshape=False, order=1, mode="reflect")
  return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _crop_at(img: np.ndarray, size: int, rng: np.random.Generator | None) -> np.ndarray:
  """A size×size window: random when `rng` is given, else central."""
  h, w = img.shape[:2]
  if rng is not None:
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
  else:
    y, x = (h - size) // 2, (w - size) // 2
  return img[y:y + size, x:x + size]


def make_preprocess(spec: DatasetSpec, size: int, channels: int, train: bool, flip: bool, *,
                    crop: str | None = None, load_size: int = 0, rotate_degrees: float = 0.0
                    ) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
  """Returns f(image, rng) -> (size, size, channels) uint8, the training or evaluation cut of one image.

  Training adds the augmentations asked for: random crop position, horizontal flip (p = 0.5) and a uniform
  rotation in ±`rotate_degrees`. Evaluation is deterministic (central crops, no augmentation).
  """
  crop = crop or spec.crop
  if crop not in CROPS:
    raise errors.ConfigError(f"unknown crop {crop!r}; use one of {', '.join(CROPS)}")
  if crop == "resize_crop" and load_size < size:
    raise errors.ConfigError(f"crop 'resize_crop' needs data.load_size >= the image size {size}; got {load_size}")

  def preprocess(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = to_rgb(np.asarray(img), channels)
    if spec.center_crop is not None:
      img = center_crop(img, spec.center_crop)
    h, w = img.shape[:2]
    crop_rng = rng if train else None
    if crop == "letterbox":
      img = letterbox(img, size)
    elif crop == "random" and h >= size and w >= size:
      img = _crop_at(img, size, crop_rng)
    elif crop == "resize_crop":
      side = min(h, w)
      img = _crop_at(resize(center_crop(img, (side, side)), load_size), size, crop_rng)
    else:
      side = min(h, w)
      img = resize(center_crop(img, (side, side)), size)
    if train and flip and rng.random() < 0.5:
      img = img[:, ::-1]
    if train and rotate_degrees:
      img = rotate(img, float(rng.uniform(-rotate_degrees, rotate_degrees)))
    return np.ascontiguousarray(img)

  return preprocess
