"""Differentiable distortions of containers, the stand-ins that training back-propagates through: the same spec
names as the real distortions of `jaxsteg.attacks.distortions` (evaluation), plus HiDDeN's training-only layers.

A layer is a pure function `layer(images, key=None, cover=None)` of float images in [0, 1], shape (N, H, W, C)
(C = 3 RGB or C = 1 grey), returning float images in [0, 1] of the same shape and dtype. Every operation is
batch-elementwise (reshapes, matrix products and convolutions over H, W and C only; no Python loop over the
batch), so a layer jits, and shards over the batch axis with no communication. Random layers draw only from
`key`. A layer is found by a spec string `family:strength`:

  jpeg:Q       differentiable JPEG at quality Q (1..100), built to match libjpeg-turbo (the real codec):
               RGB -> YCbCr (JFIF), 4:2:0 chroma (2x2 average; decoded with libjpeg's default "fancy"
               triangular upsampling), level shift, orthonormal 8x8 DCT-II as matrix products, quantisation by
               the IJG tables scaled exactly as libjpeg scales them (Q < 50: 5000/Q, else 200 - 2Q;
               (t s + 50) // 100 clipped to 1..255), rounding, dequantisation, IDCT, back to RGB, 8 bits. The
               coefficient rounding is `rounding="ste"` (straight-through: forward round, gradient identity) or
               `"cubic"` (Shin & Song 2017: round(x) + (x - round(x))^3, that value forward too); the 8-bit
               roundings libjpeg does between its stages (integer YCbCr, integer planes) are straight-through.
               Grey images are a one-plane JPEG with the luminance table. Sizes that are not multiples of 16
               are edge-padded to one (as libjpeg pads its MCUs), then cropped back.
  jpegmask     HiDDeN's JPEG-Mask: YCbCr 4:4:4, 8x8 DCT, keep the 25 lowest zig-zag coefficients of Y and 9 of
               Cb and Cr in each block, zero the rest, IDCT (no rounding). HiDDeN converts to analogue YUV;
               U and V are Cb and Cr up to a constant factor, which a mask keeping or zeroing coefficients
               does not see, so the result is the same.
  noise:S      Gaussian noise of standard deviation S/255, then 8 bits (straight-through rounding).
  blur:S       Gaussian blur of standard deviation S pixels (kernel truncated at 4 S, mirrored edges as
               scipy's "reflect"), a separable depthwise convolution, then 8 bits.
  resize:F     bicubic (Keys a = -0.5, as Pillow) downscale by F with antialiasing to round(F H) x round(F W),
               8 bits, bicubic back up to H x W, 8 bits.
  crop:F       centre crop keeping round(F H) x round(F W) (placed as the real crop places it), bicubic back to
               H x W, 8 bits.
  cropout:F    HiDDeN's Cropout: keep a random rectangle of area fraction F of the container (height fraction
               uniform in F..1, width fraction F / that, position uniform; one per image), the cover elsewhere.
  dropout:P    HiDDeN's Dropout: keep each pixel of the container with probability P, else the cover's pixel.
               Without a cover, both fill with zeros (black).
  round8       8-bit rounding (clip to [0, 1], then straight-through rounding): the PNG channel. `png` and
               `identity` are the same layer (a PNG holds 8 bits).

Why our own code: no public JAX differentiable JPEG has a usable gradient (diffjpeg-jax rounds with a plain
`jnp.round`, whose gradient is zero everywhere), and matching the real codec's chroma handling and tables is
what keeps the stand-in close to what evaluation measures. Clipping keeps its true gradient (zero where an
image saturates); only roundings are straight-through.

`get(spec)` returns a `NoiseLayer`; `apply_one_of` draws one layer per batch (HiDDeN's combined setting, by
`jax.lax.switch`, so it jits) and `apply_all` applies layers in sequence. Adding a family is adding one function
decorated with `@family(...)`; an unknown or malformed spec raises `jaxsteg.errors.ConfigError` naming the known
families and the valid strengths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxsteg import errors
from jaxsteg.attacks.jpeg_transform import HIGHEST, jpeg_codec, jpeg_mask, round8

ROUNDINGS = ("ste", "cubic")

# A family's function: (images float32 (N, H, W, C) in [0, 1], strength or None, key or None, cover or None,
# rounding) -> float32 (N, H, W, C).
LayerFunction = Callable[[jax.Array, "float | None", "jax.Array | None", "jax.Array | None", str], jax.Array]


@dataclasses.dataclass(frozen=True)
class Layer:
  """A kind of differentiable distortion: its function, what its strength means and which strengths are valid."""
  name: str
  function: LayerFunction
  parameter: str | None           # What the strength is ("quality", "sigma"); None: the family takes none.
  minimum: float = 0.0            # Valid strengths: minimum < s <= maximum (or minimum <= s for integers).
  maximum: float = np.inf
  integer: bool = False
  random: bool = False            # Draws from the key (which must then be given).

  def usage(self) -> str:
    return self.name if self.parameter is None else f"{self.name}:{self.parameter.upper()}"

  def valid_range(self) -> str:
    if self.integer:
      return f"an integer in {self.minimum:g}..{self.maximum:g}"
    upper = "" if np.isinf(self.maximum) else f" and <= {self.maximum:g}"
    return f"a number > {self.minimum:g}{upper}"


_LAYERS: dict[str, Layer] = {}


def family(name: str, parameter: str | None = None, minimum: float = 0.0, maximum: float = np.inf,
           integer: bool = False, random: bool = False) -> Callable[[LayerFunction], LayerFunction]:
  """Registers the decorated function as the differentiable family `name` (what `get` looks up)."""
  def register(function: LayerFunction) -> LayerFunction:
    _LAYERS[name] = Layer(name, function, parameter, minimum, maximum, integer, random)
    return function
  return register


@dataclasses.dataclass(frozen=True)
class NoiseLayer:
  """One layer at one strength: `layer(images, key=None, cover=None)` maps float (N, H, W, C) in [0, 1] to the
  same shape and dtype. Hashable, so it can be a static argument of `jax.jit`."""
  name: str                       # Canonical spec: "jpeg:90", "noise:2", "round8".
  family: str
  strength: float | None
  rounding: str = "ste"
  random: bool = False
  function: LayerFunction = dataclasses.field(default=None, repr=False, compare=False)

  def __call__(self, images, key: jax.Array | None = None, cover=None) -> jax.Array:
    images = _check_images(images, self.name)
    if self.random and key is None:
      raise ValueError(f"layer {self.name!r} is random: give it a jax.random key")
    if cover is not None:
      cover = jnp.asarray(cover)
      if cover.shape != images.shape:
        raise ValueError(f"layer {self.name!r}: cover {cover.shape} and images {images.shape} differ in shape")
      cover = cover.astype(jnp.float32)
    out = self.function(images.astype(jnp.float32), self.strength, key, cover, self.rounding)
    assert out.shape == images.shape, (self.name, out.shape, images.shape)
    return out.astype(images.dtype)


def names() -> tuple[str, ...]:
  """The names of the known differentiable families, in definition order."""
  return tuple(_LAYERS)


def get(spec: str | NoiseLayer, rounding: str = "ste") -> NoiseLayer:
  """The layer named by `spec` ('jpeg:90', 'jpegmask', 'noise:2', 'blur:1', 'resize:0.5', 'crop:0.9',
  'cropout:0.3', 'dropout:0.3', 'round8'); `rounding` is how jpeg rounds its coefficients ('ste' or 'cubic')."""
  if isinstance(spec, NoiseLayer):
    return spec
  known = ", ".join(f.usage() for f in _LAYERS.values())
  if rounding not in ROUNDINGS:
    raise errors.ConfigError(f"rounding must be one of {', '.join(ROUNDINGS)}, got {rounding!r}")
  if not isinstance(spec, str):
    raise errors.ConfigError(f"a differentiable distortion is named by a string such as 'jpeg:90', got {spec!r}; "
                             f"known: {known}")
  name, sep, tail = spec.strip().lower().partition(":")
  fam = _LAYERS.get(name)
  if fam is None:
    raise errors.ConfigError(f"unknown differentiable distortion {spec!r}; known families: {known}")
  if fam.parameter is None:
    if sep:
      raise errors.ConfigError(f"distortion {name!r} takes no strength, got {spec!r}")
    return NoiseLayer(name, name, None, rounding, fam.random, fam.function)
  if not sep or not tail:
    raise errors.ConfigError(f"distortion {name!r} needs its {fam.parameter}: {fam.usage()}, "
                             f"{fam.valid_range()}")
  try:
    strength = float(tail)
  except ValueError as e:
    raise errors.ConfigError(f"distortion {spec!r}: the {fam.parameter} after ':' must be a number, "
                             f"{fam.valid_range()}") from e
  ok = (strength.is_integer() and fam.minimum <= strength <= fam.maximum) if fam.integer else (
      fam.minimum < strength <= fam.maximum)
  if not ok:
    raise errors.ConfigError(f"distortion {spec!r}: the {fam.parameter} must be {fam.valid_range()}")
  strength = int(strength) if fam.integer else strength
  return NoiseLayer(f"{name}:{strength:g}", name, strength, rounding, fam.random, fam.function)


def apply_one_of(specs: Sequence[str | NoiseLayer], images, key: jax.Array, cover=None,
                 rounding: str = "ste") -> jax.Array:
  """One layer of `specs`, drawn uniformly from `key`, applied to the whole batch (HiDDeN's combined setting).
  By `jax.lax.switch`: jits, and every layer is compiled into the one program."""
  layers = [get(s, rounding) for s in specs]
  if not layers:
    raise errors.ConfigError("apply_one_of needs at least one distortion")
  if len(layers) == 1:
    return layers[0](images, key, cover)
  choose, key = jax.random.split(key)
  index = jax.random.randint(choose, (), 0, len(layers))
  branches = [lambda x, k, c, layer=layer: layer(x, k, c) for layer in layers]
  return jax.lax.switch(index, branches, jnp.asarray(images), key, cover)


def apply_all(specs: Sequence[str | NoiseLayer], images, key: jax.Array | None = None, cover=None,
              rounding: str = "ste") -> jax.Array:
  """The layers of `specs` applied in sequence (each with its own part of `key`)."""
  layers = [get(s, rounding) for s in specs]
  keys = [None] * len(layers) if key is None else list(jax.random.split(key, max(1, len(layers))))
  out = jnp.asarray(images)
  for layer, k in zip(layers, keys):
    out = layer(out, k, cover)
  return out


def _check_images(images, name: str) -> jax.Array:
  images = jnp.asarray(images)
  if images.ndim != 4 or not jnp.issubdtype(images.dtype, jnp.floating):
    raise ValueError(f"layer {name!r} takes float images (N, H, W, C) in [0, 1], got {images.dtype} "
                     f"{images.shape}")
  return images


# --- Filters and resampling -----------------------------------------------------------------------------------

def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
  """scipy.ndimage's 1-D Gaussian: radius int(truncate sigma + 0.5), normalised to sum 1."""
  radius = int(truncate * float(sigma) + 0.5)
  x = np.arange(-radius, radius + 1, dtype=np.float64)
  kernel = np.exp(-0.5 / float(sigma) ** 2 * x ** 2)
  return (kernel / kernel.sum()).astype(np.float32)


def gaussian_blur(images: jax.Array, sigma: float) -> jax.Array:
  """Separable depthwise Gaussian blur over H and W, mirrored edges (scipy 'reflect' = numpy 'symmetric')."""
  kernel = gaussian_kernel(sigma)
  radius, channels = len(kernel) // 2, images.shape[3]
  x = jnp.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="symmetric")
  for shape in ((len(kernel), 1, 1, 1), (1, len(kernel), 1, 1)):
    weights = jnp.tile(jnp.asarray(kernel).reshape(shape), (1, 1, 1, channels))   # HWIO, I = 1 per group.
    x = jax.lax.conv_general_dilated(x, weights, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                     feature_group_count=channels, precision=HIGHEST)
  return x


def _resize(images: jax.Array, height: int, width: int) -> jax.Array:
  """Bicubic (Keys a = -0.5, Pillow's) resize with antialiasing on downscale."""
  if images.shape[1:3] == (height, width):
    return images
  return jax.image.resize(images, (images.shape[0], height, width, images.shape[3]), "bicubic", antialias=True,
                          precision=HIGHEST)


def _fill(images: jax.Array, cover: jax.Array | None) -> jax.Array:
  return jnp.zeros_like(images) if cover is None else cover


# --- The families ---------------------------------------------------------------------------------------------

@family("jpeg", "quality", minimum=1, maximum=100, integer=True)
def jpeg(images, quality, key, cover, rounding):
  """Differentiable JPEG at `quality` (libjpeg-turbo's pipeline, 4:2:0; grey as one plane)."""
  del key, cover
  return jpeg_codec(images, quality, rounding)


@family("jpegmask")
def jpegmask(images, strength, key, cover, rounding):
  """HiDDeN's JPEG-Mask: 25 Y / 9 Cb / 9 Cr lowest zig-zag DCT coefficients per 8x8 block."""
  del strength, key, cover, rounding
  return jpeg_mask(images)


@family("noise", "sigma", random=True)
def noise(images, sigma, key, cover, rounding):
  """Gaussian noise of std `sigma` on the 0..255 scale, then 8 bits."""
  del cover, rounding
  return round8(images + (sigma / 255.0) * jax.random.normal(key, images.shape, images.dtype))


@family("resize", "factor", maximum=1.0)
def resize(images, factor, key, cover, rounding):
  """Bicubic downscale by `factor` (antialiased), 8 bits, bicubic back to the original size, 8 bits."""
  del key, cover, rounding
  height, width = images.shape[1:3]
  small = round8(_resize(images, max(1, round(height * factor)), max(1, round(width * factor))))
  return round8(_resize(small, height, width))


@family("blur", "sigma")
def blur(images, sigma, key, cover, rounding):
  """Gaussian blur of std `sigma` pixels (truncated at 4 sigma, mirrored edges), then 8 bits."""
  del key, cover, rounding
  return round8(gaussian_blur(images, sigma))


@family("crop", "fraction", maximum=1.0)
def crop(images, fraction, key, cover, rounding):
  """Centre crop keeping `fraction` of each side, resized back (bicubic), then 8 bits."""
  del key, cover, rounding
  height, width = images.shape[1:3]
  ch, cw = max(1, round(height * fraction)), max(1, round(width * fraction))
  top, left = (height - ch) // 2, (width - cw) // 2
  return round8(_resize(images[:, top:top + ch, left:left + cw], height, width))


@family("cropout", "fraction", maximum=1.0, random=True)
def cropout(images, fraction, key, cover, rounding):
  """A random rectangle of area `fraction` of each container kept, the cover (or zeros) around it."""
  del rounding
  n, height, width = images.shape[:3]
  k_side, k_top, k_left = jax.random.split(key, 3)
  h_fraction = jax.random.uniform(k_side, (n,), minval=fraction, maxval=1.0)
  rows = jnp.clip(jnp.round(h_fraction * height), 1, height)
  cols = jnp.clip(jnp.round(fraction / h_fraction * width), 1, width)
  top = jnp.floor(jax.random.uniform(k_top, (n,)) * (height - rows + 1))
  left = jnp.floor(jax.random.uniform(k_left, (n,)) * (width - cols + 1))
  y = jnp.arange(height, dtype=jnp.float32)[None, :, None]
  x = jnp.arange(width, dtype=jnp.float32)[None, None, :]
  inside = ((y >= top[:, None, None]) & (y < (top + rows)[:, None, None])
            & (x >= left[:, None, None]) & (x < (left + cols)[:, None, None]))
  return jnp.where(inside[..., None], images, _fill(images, cover))


@family("dropout", "keep", maximum=1.0, random=True)
def dropout(images, keep, key, cover, rounding):
  """Each pixel (all its channels) of the container kept with probability `keep`, else the cover's (or 0)."""
  del rounding
  kept = jax.random.bernoulli(key, keep, images.shape[:3] + (1,))
  return jnp.where(kept, images, _fill(images, cover))


@family("round8")
def round8_layer(images, strength, key, cover, rounding):
  """8 bits with a straight-through gradient: the PNG channel."""
  del strength, key, cover, rounding
  return round8(images)


family("png")(round8_layer)
family("identity")(round8_layer)
