"""ImageCloak's text variant (Gnawali et al., 2026), reproduced faithfully: text as a 28×28 image in a grey cover.

ASCII text is padded (or cut) to 784 characters, reshaped to 28×28×1 and scaled by 1/255: a "secret image"
that Baluja's prep/hide/reveal networks hide in a single-channel 28×28 cover (Fashion-MNIST, or grey crops of
the embedded photographs offline). Loss MSE(C, C') + β·MSE(T, T') (the Deep Steganography task's, reused).
Decoding is round(255·T') clipped to printable ASCII; accuracy = the fraction of characters that come back
exactly, as the paper measures it (ImageCloak reports 91.48 % test, 95.32 % train). Nothing corrects errors
here: for exact text use the bit-payload family (`jaxsteg.tasks.bits` and `jaxsteg.payload`).

Texts [inf: the paper does not say which]: 784-character windows of the Python documentation topics that the
standard library ships (`pydoc_data`), non-ASCII characters replaced by '?', whitespace runs collapsed; the
first 90 % of the corpus trains and the last 10 % is held out.
"""

from __future__ import annotations

import functools
import re

import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsteg.data import pipeline
from jaxsteg.tasks import deepstego

SIDE = 28
CHARS = SIDE * SIDE
PRINTABLE = (32, 126)
TRAIN_FRACTION = 0.9

# Training and the networks are the Deep Steganography task's, with one 28×28×1 "secret" per cover.
init_state = deepstego.init_state
train_step = deepstego.train_step


@functools.lru_cache(maxsize=1)
def corpus() -> np.ndarray:
  """The ASCII text corpus as uint8 codes in the printable range."""
  from pydoc_data import topics  # pylint: disable=g-import-not-at-top
  text = " ".join(topics.topics[k] for k in sorted(topics.topics))
  text = re.sub(r"\s+", " ", text)
  codes = np.frombuffer(text.encode("ascii", "replace"), np.uint8)
  return np.clip(codes, *PRINTABLE).astype(np.uint8)


def text_split(split: str) -> np.ndarray:
  codes = corpus()
  cut = int(TRAIN_FRACTION * codes.size)
  return codes[:cut] if split == "train" else codes[cut:]


def text_to_image(text: str) -> np.ndarray:
  """Text -> (28, 28, 1) uint8 character codes: non-ASCII as '?', padded with spaces, cut at 784 chars."""
  codes = np.frombuffer(text.encode("ascii", "replace")[:CHARS], np.uint8)
  codes = np.clip(codes, *PRINTABLE)
  return np.pad(codes, (0, CHARS - codes.size), constant_values=32).reshape(SIDE, SIDE, 1).astype(np.uint8)


def image_to_text(revealed: np.ndarray) -> str:
  """Revealed (28, 28, 1) in [0, 1] -> text: round(255·T') clipped to printable ASCII, trailing spaces cut."""
  codes = np.clip(np.round(np.asarray(revealed, np.float32) * 255.0), *PRINTABLE).astype(np.uint8)
  return codes.reshape(-1).tobytes().decode("ascii").rstrip(" ")


def _window(codes: np.ndarray, start: int) -> np.ndarray:
  return codes[start:start + CHARS].reshape(SIDE, SIDE, 1)


def train_dataset(config: ml_collections.ConfigDict) -> grain.MapDataset:
  """Batches {'cover': (b, 28, 28, 1), 'secret': (b, 1, 28, 28, 1) character codes}, uint8."""
  pi, pc = jax.process_index(), jax.process_count()
  covers = pipeline.train_source(config.data, config.data.cover, pi, pc)
  cut = pipeline.preprocess_fn(config.data, config.data.cover, train=True)
  texts = text_split("train")

  def make_example(index, rng: np.random.Generator):
    del index
    cover = cut(covers[int(rng.integers(len(covers)))], rng)
    start = int(rng.integers(texts.size - CHARS))
    return {"cover": cover, "secret": _window(texts, start)[None]}

  return pipeline.example_stream(make_example, seed=config.seed, global_batch=config.batch_size,
                                 process_index=pi, process_count=pc)


class TextEvalSet(pipeline.EvalSet):
  """Held-out covers, each paired with its own held-out text window (consecutive, non-overlapping)."""

  def __init__(self, config: ml_collections.ConfigDict):
    data = config.data
    self._covers, self._cut = pipeline.eval_source(data, data.cover)
    self._texts = text_split("eval")
    self._windows = self._texts.size // CHARS
    n = len(self._covers)
    self.length = min(n, data.eval_max_examples) if data.get("eval_max_examples") else n

  def example(self, i: int) -> dict[str, np.ndarray]:
    start = (i % self._windows) * CHARS
    return {"cover": self._cut(self._covers[i], None), "secret": _window(self._texts, start)[None]}


def eval_set(config: ml_collections.ConfigDict) -> TextEvalSet:
  return TextEvalSet(config)


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Deep Steganography's per-image metrics plus the fraction of characters recovered exactly."""
  out, images = deepstego.eval_step(config, state, batch)
  codes = jnp.clip(jnp.round(images["revealed_0"] * 255.0), *PRINTABLE)
  out["char_accuracy"] = jnp.mean((codes == batch["secret"][:, 0].astype(jnp.float32)).astype(jnp.float32),
                                  axis=(1, 2, 3))
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict):
  return deepstego.grid_columns(config, images)


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  return deepstego.dummy_batch(config, batch_size, size)
