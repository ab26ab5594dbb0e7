"""The offline default dataset: photographs that installed packages ship.

No network is needed: scikit-image and scikit-learn carry these files in their wheels. The split is by source
image, never by crop, so no held-out pixel is ever seen in training. The two views of the stereo motorcycle are
one scene and both sit in the training split.
"""

from __future__ import annotations

import functools

import numpy as np

# name -> (loader description). Train and test lists are the documented split (README "Embedded data").
TRAIN_IMAGES = (
    "astronaut",
    "rocket",
    "stereo_motorcycle_left",
    "stereo_motorcycle_right",
    "china",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
TEST_IMAGES = ("chelsea", "coffee", "flower")


def _load(name: str) -> np.ndarray:
  """Loads one named image as an (H, W, 3) uint8 array."""
  if name in ("china", "flower"):
    from sklearn.datasets import load_sample_image  # pylint: disable=g-import-not-at-top
    img = load_sample_image(f"{name}.jpg")
  elif name.startswith("stereo_motorcycle"):
    from skimage import data  # pylint: disable=g-import-not-at-top
    left, right, _ = data.stereo_motorcycle()
    img = left if name.endswith("left") else right
  else:
    from skimage import data  # pylint: disable=g-import-not-at-top
    img = getattr(data, name)()
  img = np.asarray(img)
  if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != np.uint8:
    raise ValueError(f"embedded image {name!r} is {img.shape} {img.dtype}, expected (H, W, 3) uint8")
  return img


@functools.lru_cache(maxsize=None)
def load_split(split: str) -> tuple[np.ndarray, ...]:
  """Returns the images of 'train' or 'test' (cached: they are read once per process)."""
  names = {"train": TRAIN_IMAGES, "test": TEST_IMAGES}.get(split)
  if names is None:
    raise ValueError(f"embedded split must be 'train' or 'test', got {split!r}")
  return tuple(_load(n) for n in names)


def grid_crops(images, size: int) -> np.ndarray:
  """Non-overlapping size×size crops on a grid, centred in each image: the fixed evaluation set."""
  crops = []
  for img in images:
    h, w = img.shape[:2]
    ny, nx = h // size, w // size
    oy, ox = (h - ny * size) // 2, (w - nx * size) // 2
    for i in range(ny):
      for j in range(nx):
        crops.append(img[oy + i * size:oy + (i + 1) * size, ox + j * size:ox + (j + 1) * size])
  if not crops:
    raise ValueError(f"no {size}x{size} crop fits in the evaluation images")
  return np.stack(crops)
