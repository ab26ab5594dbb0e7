"""Real distortions of containers, the channel a hidden message must survive: evaluation only (the differentiable
stand-ins that training uses live elsewhere under the same names).

Each distortion is a pure function of uint8 images (N, H, W, C) and a seed, returning uint8 images of the same
shape; deterministic ones ignore the seed, random ones draw only from `numpy.random.default_rng(seed)` (same
seed, same output). A distortion is found by a spec string `family:strength`:

  jpeg:Q       real JPEG at quality Q (1..100) through `imagecodecs` (libjpeg-turbo 3, the codec Pillow and most
               software use): RGB with 4:2:0 chroma subsampling (Pillow's default, and bit-identical to it),
               grey (C = 1) as a one-channel JPEG; encoded and decoded with the library's default (islow) DCT.
  noise:S      additive Gaussian noise of standard deviation S on the 0..255 scale, then rounded to the nearest
               integer and clipped to 0..255 (what saving the noisy image as 8 bits does).
  resize:F     bicubic downscale by F (Pillow, to round(F·H) × round(F·W), at least 1 pixel), saved as 8 bits,
               then bicubic upscale back to H × W (a re-posted thumbnail).
  blur:S       Gaussian blur of standard deviation S pixels (scipy.ndimage, kernel truncated at 4 S, mirrored
               edges), rounded and clipped to 8 bits.
  crop:F       centre crop keeping a fraction F of each side (round(F·H) × round(F·W)), resized back to H × W
               (bicubic, Pillow): a crop that keeps the image size.
  png          PNG round trip (imagecodecs, lossless): the identity baseline every robustness table starts from.

`DEFAULT_SUITE` is the evaluation set of the design notes (methods.md §G) in its order. Adding a family is
adding one function decorated with `@family(...)` in this module; `get` finds it by name, no table elsewhere
needs editing. An unknown or malformed spec raises `jaxsteg.errors.ConfigError` naming the known families.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from jaxsteg import errors

DEFAULT_SUITE = ("jpeg:95", "jpeg:90", "jpeg:75", "jpeg:50", "noise:1", "noise:2", "noise:5", "resize:0.5",
                 "blur:1", "crop:0.9", "png")

# A family's function: (images uint8 (N, H, W, C), strength or None, generator) -> uint8 (N, H, W, C).
FamilyFunction = Callable[[np.ndarray, "float | None", np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Family:
  """A kind of distortion: its function, what its strength means and which strengths are valid."""
  name: str
  function: FamilyFunction
  parameter: str | None           # What the strength is ("quality", "sigma"); None: the family takes none.
  minimum: float = 0.0            # Valid strengths: minimum < s <= maximum (or minimum <= s for integers).
  maximum: float = np.inf
  integer: bool = False

  def usage(self) -> str:
    return self.name if self.parameter is None else f"{self.name}:{self.parameter.upper()}"

  def valid_range(self) -> str:
    if self.integer:
      return f"an integer in {self.minimum:g}..{self.maximum:g}"
    upper = "" if np.isinf(self.maximum) else f" and <= {self.maximum:g}"
    return f"a number > {self.minimum:g}{upper}"


_FAMILIES: dict[str, Family] = {}


def family(name: str, parameter: str | None = None, minimum: float = 0.0, maximum: float = np.inf,
           integer: bool = False) -> Callable[[FamilyFunction], FamilyFunction]:
  """Registers the decorated function as the distortion family `name` (what `get` looks up)."""
  def register(function: FamilyFunction) -> FamilyFunction:
    _FAMILIES[name] = Family(name, function, parameter, minimum, maximum, integer)
    return function
  return register


@dataclasses.dataclass(frozen=True)
class Distortion:
  """One distortion at one strength: `apply(images, seed)` maps uint8 (N, H, W, C) to uint8 of the same shape."""
  name: str                       # Canonical spec: "jpeg:90", "noise:2", "png".
  family: str
  strength: float | None
  function: FamilyFunction = dataclasses.field(repr=False, compare=False)

  def apply(self, images: np.ndarray, seed: int = 0) -> np.ndarray:
    images = _check_images(images)
    out = self.function(images, self.strength, np.random.default_rng(seed))
    assert out.shape == images.shape and out.dtype == np.uint8, (self.name, out.shape, out.dtype)
    return out


def families() -> tuple[str, ...]:
  """The names of the known distortion families, in definition order."""
  return tuple(_FAMILIES)


def get(spec: str | Distortion) -> Distortion:
  """The distortion named by `spec` ('jpeg:90', 'noise:2', 'resize:0.5', 'blur:1', 'crop:0.9', 'png')."""
  if isinstance(spec, Distortion):
    return spec
  known = ", ".join(f.usage() for f in _FAMILIES.values())
  if not isinstance(spec, str):
    raise errors.ConfigError(f"a distortion is named by a string such as 'jpeg:90', got {spec!r}; known: {known}")
  name, sep, tail = spec.strip().lower().partition(":")
  fam = _FAMILIES.get(name)
  if fam is None:
    raise errors.ConfigError(f"unknown distortion {spec!r}; known families: {known}")
  if fam.parameter is None:
    if sep:
      raise errors.ConfigError(f"distortion {name!r} takes no strength, got {spec!r}")
    return Distortion(name, name, None, fam.function)
  if not sep or not tail:
    raise errors.ConfigError(f"distortion {name!r} needs its {fam.parameter}: {fam.usage()}, e.g. "
                             f"{_example(name)!r}")
  try:
    strength = float(tail)
  except ValueError as e:
    raise errors.ConfigError(f"distortion {spec!r}: the {fam.parameter} after ':' must be a number") from e
  ok = (strength.is_integer() and fam.minimum <= strength <= fam.maximum) if fam.integer else (
      fam.minimum < strength <= fam.maximum)
  if not ok:
    raise errors.ConfigError(f"distortion {spec!r}: the {fam.parameter} must be {fam.valid_range()}")
  strength = int(strength) if fam.integer else strength
  return Distortion(f"{name}:{strength:g}", name, strength, fam.function)


def suite(specs=DEFAULT_SUITE) -> list[Distortion]:
  """The distortions named by `specs` (every one checked before any is returned)."""
  return [get(s) for s in specs]


def _example(name: str) -> str:
  return next((s for s in DEFAULT_SUITE if s.partition(":")[0] == name), name)


def _check_images(images) -> np.ndarray:
  images = np.asarray(images)
  if images.dtype != np.uint8 or images.ndim != 4:
    raise ValueError(f"distortions take uint8 images (N, H, W, C), got {images.dtype} {images.shape}")
  return images


def _resize(channel: np.ndarray, height: int, width: int) -> np.ndarray:
  """Bicubic resize of one uint8 (h, w) channel with Pillow (8 bits in and out, as a saved image is)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if channel.shape == (height, width):
    return channel
  return np.asarray(Image.fromarray(np.ascontiguousarray(channel)).resize((width, height), Image.BICUBIC))


def _per_channel(images: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
  out = np.empty_like(images)
  for i in range(images.shape[0]):
    for c in range(images.shape[3]):
      out[i, :, :, c] = function(images[i, :, :, c])
  return out


def _to_uint8(values: np.ndarray) -> np.ndarray:
  return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# --- The families ---------------------------------------------------------------------------------------------

@family("jpeg", "quality", minimum=1, maximum=100, integer=True)
def jpeg(images: np.ndarray, quality: float | None, rng: np.random.Generator) -> np.ndarray:
  """Real JPEG (libjpeg-turbo through imagecodecs); RGB at 4:2:0, grey as one channel."""
  del rng
  import imagecodecs  # pylint: disable=g-import-not-at-top
  channels = images.shape[3]
  if channels not in (1, 3):
    raise ValueError(f"JPEG needs grey (C = 1) or RGB (C = 3) images, got C = {channels}")
  out = np.empty_like(images)
  for i, image in enumerate(images):
    if channels == 1:
      data = imagecodecs.jpeg8_encode(np.ascontiguousarray(image[:, :, 0]), level=int(quality))
      out[i, :, :, 0] = imagecodecs.jpeg8_decode(data)
    else:
      data = imagecodecs.jpeg8_encode(np.ascontiguousarray(image), level=int(quality), subsampling="420")
      out[i] = imagecodecs.jpeg8_decode(data)
  return out


@family("noise", "sigma")
def noise(images: np.ndarray, sigma: float | None, rng: np.random.Generator) -> np.ndarray:
  """Gaussian noise of std `sigma` (0..255 scale), rounded and clipped to 8 bits. Drawn in C order over the
  batch, so image i's noise depends only on the seed, i and the image shape."""
  return _to_uint8(images + rng.normal(0.0, sigma, images.shape))


@family("resize", "factor", maximum=1.0)
def resize(images: np.ndarray, factor: float | None, rng: np.random.Generator) -> np.ndarray:
  """Bicubic downscale by `factor`, 8-bit, then bicubic back to the original size (Pillow)."""
  del rng
  height, width = images.shape[1:3]
  small = max(1, round(height * factor)), max(1, round(width * factor))
  return _per_channel(images, lambda ch: _resize(_resize(ch, *small), height, width))


@family("blur", "sigma")
def blur(images: np.ndarray, sigma: float | None, rng: np.random.Generator) -> np.ndarray:
  """Gaussian blur of std `sigma` pixels over height and width (scipy.ndimage, mirrored edges, truncate 4)."""
  del rng
  from scipy import ndimage  # pylint: disable=g-import-not-at-top
  blurred = ndimage.gaussian_filter(images.astype(np.float32), sigma=(0.0, sigma, sigma, 0.0), mode="reflect",
                                    truncate=4.0)
  return _to_uint8(blurred)


@family("crop", "fraction", maximum=1.0)
def crop(images: np.ndarray, fraction: float | None, rng: np.random.Generator) -> np.ndarray:
  """Centre crop keeping `fraction` of each side, resized back to the original size (bicubic, Pillow)."""
  del rng
  height, width = images.shape[1:3]
  ch, cw = max(1, round(height * fraction)), max(1, round(width * fraction))
  top, left = (height - ch) // 2, (width - cw) // 2
  return _per_channel(images, lambda c: _resize(c[top:top + ch, left:left + cw], height, width))


@family("png")
def png(images: np.ndarray, strength: float | None, rng: np.random.Generator) -> np.ndarray:
  """PNG round trip (lossless; the identity baseline that proves the path itself changes nothing)."""
  del strength, rng
  import imagecodecs  # pylint: disable=g-import-not-at-top
  out = np.empty_like(images)
  for i, image in enumerate(images):
    plane = image[:, :, 0] if image.shape[2] == 1 else image
    out[i] = imagecodecs.png_decode(imagecodecs.png_encode(np.ascontiguousarray(plane))).reshape(image.shape)
  return out
