"""Pieces shared by the task modules: per-config caching of jitted functions and the numpy image API that every
`ImageHider` gets from its batched functions (any image size: padded to the networks' multiple, cropped back)."""

from __future__ import annotations

import collections
import functools
import threading
from typing import Any, Callable

import jax
import ml_collections
import numpy as np


def config_key(config: ml_collections.ConfigDict) -> str:
  """A string that is equal for equal configs (their sorted JSON)."""
  return config.to_json_best_effort(sort_keys=True)


def per_config(builder: Callable | None = None, *, maxsize: int = 16):
  """Caches `builder(config, *args)` by the config's content and `args` (hashable), so the jitted functions it
  builds are traced and compiled once per config, not once per call. Thread-safe; least recently used
  entries are dropped beyond `maxsize`."""
  if builder is None:
    return functools.partial(per_config, maxsize=maxsize)
  cache: collections.OrderedDict = collections.OrderedDict()
  lock = threading.Lock()

  @functools.wraps(builder)
  def cached(config, *args):
    key = (config_key(config), args)
    with lock:
      if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = builder(config, *args)
    with lock:
      cache[key] = value
      while len(cache) > maxsize:
        cache.popitem(last=False)
    return value

  cached.cache_clear = cache.clear
  return cached


def pad_to_multiple(img: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
  """Edge-pads (H, W, C) so that H and W are multiples of `multiple`; returns it and the original (H, W)."""
  h, w = img.shape[:2]
  ph, pw = -h % multiple, -w % multiple
  if ph or pw:
    img = np.pad(img, ((0, ph), (0, pw), (0, 0)), mode="edge")
  return img, (h, w)


def to_uint8(x) -> np.ndarray:
  """[0, 1] floats -> uint8 (clipped, rounded to the nearest level, half to even as jnp.round). On the host:
  the eager jnp version compiled four small programs per call."""
  return np.round(np.clip(np.asarray(x, np.float32), 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)


def to_unit(img: np.ndarray) -> np.ndarray:
  """uint8 -> float32 in [0, 1], on the host (no program to compile)."""
  return np.asarray(img, np.float32) / np.float32(255.0)


def hide_images(task, config, params, cover: np.ndarray, secrets: np.ndarray, key: Any = None) -> np.ndarray:
  """An `ImageHider`'s container of one cover (H, W, C) uint8 and its K secrets (K, H, W, C) uint8: (H, W, C)
  uint8, the 8-bit PNG that is sent. Any H, W: edge-padded to the size multiple, cropped back."""
  m = task.size_multiple(config)
  cover_p, (h, w) = pad_to_multiple(cover, m)
  secrets_p = np.stack([pad_to_multiple(s, m)[0] for s in secrets])
  container = task.image_functions(config).hide(params, to_unit(cover_p)[None], to_unit(secrets_p)[None], key)
  return to_uint8(np.asarray(container)[0, :h, :w])


def reveal_images(task, config, params, container: np.ndarray, key: Any = None) -> list[np.ndarray]:
  """The K secrets an `ImageHider` reveals from a container (H, W, C) uint8 of any size: each (H, W, C) uint8."""
  padded, (h, w) = pad_to_multiple(container, task.size_multiple(config))
  out = np.asarray(task.image_functions(config).reveal(params, to_unit(padded)[None], key))
  return [to_uint8(out[0, k, :h, :w]) for k in range(out.shape[1])]


def host_params(tree):
  """Host numpy copies of replicated global arrays (also when they span several processes)."""
  return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)) if isinstance(a, jax.Array) else a, tree)
