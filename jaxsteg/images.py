"""Image files: reading with clear errors, atomic 8-bit PNG writes, PNG round trips, labelled sample grids."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image
from PIL import ImageDraw

from jaxsteg import errors
from jaxsteg import files

ImageError = errors.ImageError


def read_rgb(path: str, *, what: str = "image", max_pixels: int | None = None) -> tuple[np.ndarray, str]:
  """Reads an image file as (H, W, 3) uint8 RGB; returns it and a note when the mode was converted.

  With `max_pixels`, an image whose header claims more pixels is refused before anything is decoded (a
  decompression bomb costs nothing)."""
  if not os.path.exists(path):
    raise ImageError(f"{what} {path!r} does not exist")
  if os.path.isdir(path):
    raise ImageError(f"{what} {path!r} is a directory, not an image file")
  return _decode(path, f"{what} {path!r}", max_pixels)


def decode_rgb(data: bytes, *, what: str = "image", max_pixels: int | None = None) -> tuple[np.ndarray, str]:
  """`read_rgb` of an image file's bytes (an upload): `what` names it in messages."""
  if not data:
    raise ImageError(f"{what} is empty; give a PNG or JPEG file")
  return _decode(io.BytesIO(data), what, max_pixels)


def _decode(source, label: str, max_pixels: int | None) -> tuple[np.ndarray, str]:
  try:
    with Image.open(source) as img:
      w, h = img.size
      if max_pixels is not None and w * h > max_pixels:
        raise ImageError(f"{label} is {w}x{h} pixels, more than this command handles ({max_pixels} pixels); "
                         f"downscale it first")
      img.load()
      return _to_rgb(img, label)
  except ImageError:
    raise
  except Image.DecompressionBombError as e:
    raise ImageError(f"{label} claims more pixels than PIL will decode ({e}); give a smaller image") from e
  except (OSError, SyntaxError, ValueError, EOFError) as e:
    raise ImageError(f"{label} is not a readable image ({e}); give a PNG or JPEG file") from e


def _to_rgb(img: Image.Image, label: str) -> tuple[np.ndarray, str]:
  mode = img.mode
  if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
    arr = np.asarray(img.convert("RGBA")).astype(np.float32)
    arr = np.round(arr[..., :3] * (arr[..., 3:] / 255.0)).astype(np.uint8)
    return arr, f"{label}: alpha channel dropped (composited on black)"
  if mode == "RGB":
    return np.asarray(img, dtype=np.uint8), ""
  if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
    raise ImageError(f"{label} has {mode} (16/32-bit) pixels; convert it to 8-bit RGB first")
  return np.asarray(img.convert("RGB"), dtype=np.uint8), f"{label}: converted from mode {mode} to RGB"


def encode_png(image: np.ndarray) -> bytes:
  """(H, W, 3) or (H, W, 1) uint8 as PNG bytes."""
  buf = io.BytesIO()
  Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image).save(buf, format="PNG")
  return buf.getvalue()


def write_png(path: str, image: np.ndarray) -> None:
  """Writes (H, W, 3) uint8 (or float in [0, 1]) as PNG through a temporary file, so no partial file remains."""
  if image.dtype != np.uint8:
    image = np.round(np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  directory = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(directory):
    raise ImageError(f"cannot write {path!r}: directory {directory!r} does not exist")
  if not os.access(directory, os.W_OK):
    raise ImageError(f"cannot write {path!r}: directory {directory!r} is not writable")
  with files.atomic_target(path) as tmp:
    Image.fromarray(image).save(tmp, format="PNG")


def png_round_trip(img: np.ndarray) -> np.ndarray:
  """`img` (H, W, C) uint8 as it reads back from a PNG file (exact: PNG is lossless)."""
  buf = io.BytesIO()
  Image.fromarray(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img).save(buf, format="PNG")
  buf.seek(0)
  with Image.open(buf) as im:
    return np.asarray(im.convert("RGB") if img.shape[-1] == 3 else im)


def make_grid(columns: list[tuple[str, np.ndarray]], pad: int = 2, label_height: int = 14) -> np.ndarray:
  """Rows = examples, columns = named images (each (N, H, W, C) in [0, 1]), with a title row. Returns uint8."""
  n, h, w = columns[0][1].shape[:3]
  ncol = len(columns)
  grid = np.full((label_height + n * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
  for j, (_, imgs) in enumerate(columns):
    imgs = np.round(np.clip(np.asarray(imgs, np.float32), 0, 1) * 255).astype(np.uint8)
    if imgs.shape[-1] == 1:
      imgs = np.repeat(imgs, 3, axis=-1)
    for i in range(n):
      y, x = label_height + pad + i * (h + pad), pad + j * (w + pad)
      grid[y:y + h, x:x + w] = imgs[i]
  canvas = Image.fromarray(grid)
  draw = ImageDraw.Draw(canvas)
  for j, (title, _) in enumerate(columns):
    draw.text((pad + j * (w + pad) + 1, 1), title[: max(4, w // 6)], fill=(0, 0, 0))
  return np.asarray(canvas)
