"""ImageCloak's text variant (Gnawali et al., 2026): text as a 28×28 character matrix hidden in a grey 28×28 cover.

Text → ASCII codes → a 28×28 matrix (784 cells, padded) → prep/hide into a single-channel cover → reveal. The
revealer predicts each cell's character as a class (`model.head = 'class'`, the default): a softmax over the code
points in use, class 0 for padding and 1..95 for printable ASCII 32..126, with cross-entropy as the reconstruction
loss. Loss = `loss.container_weight`·MSE(C, C') + `loss.text_weight`·CE. Accuracy is a classification accuracy
(argmax == character) over characters only (padding cells are not counted), as the paper reports it (91.48 % test,
95.32 % train); exact match = every cell right. The revealer sees the 8-bit container: at evaluation always, in
training clipped to [0, 1] and rounded through a straight-through estimator (`loss.straight_through`).
`model.head = 'regress'` is the grey-level reading (codes / 255 as a secret image, Deep Steganography's loss and
networks, round(255·T') decoded): it recovers only a few per cent of the characters. Nothing corrects errors here:
for exact text use the bit-payload family (`jaxsteg.tasks.bits` and `jaxsteg.payload`).

Texts [inf: the paper does not say which]: the Python documentation topics that the standard library ships
(`pydoc_data`), non-ASCII characters as '?', whitespace runs collapsed. Split by topic: every
`HELD_OUT_EVERY`-th topic (sorted by name) is held out, so no passage is in both splits. Training messages are
random windows of the training topics, a `data.short_fraction` of them cut to a random length (padding cells);
held-out messages are full 784-character windows of the held-out topics, one per cover.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import errors
from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg.data import pipeline
from jaxsteg.models import cloak_text as models
from jaxsteg.tasks import deepstego

if TYPE_CHECKING:   # Annotations only: grain is imported where the datasets are made.
  import grain

SIDE = 28
CHARS = SIDE * SIDE
PRINTABLE = (32, 126)
PAD = 0                                     # The code (and class) of a padding cell.
NUM_CLASSES = PRINTABLE[1] - PRINTABLE[0] + 2   # Padding + 95 printable characters.
HELD_OUT_EVERY = 5
HEADS = ("class", "regress")


# --- Text <-> codes <-> classes ---------------------------------------------------------------------------------

def _ascii_codes(text: str) -> np.ndarray:
  codes = np.frombuffer(text.encode("ascii", "replace"), np.uint8)
  return np.clip(codes, *PRINTABLE).astype(np.uint8)


def text_to_codes(text: str) -> np.ndarray:
  """Text -> (28, 28, 1) uint8 ASCII codes: non-ASCII as '?', control characters as ' ', cut at 784 characters,
  padded with `PAD`."""
  codes = _ascii_codes(text)[:CHARS]
  return np.pad(codes, (0, CHARS - codes.size), constant_values=PAD).reshape(SIDE, SIDE, 1)


def _xp(x):
  return jnp if isinstance(x, jax.Array) else np


def codes_to_classes(codes):
  """ASCII codes (0 = padding) -> int32 class indices 0..95 (numpy or jax arrays, any shape)."""
  codes = codes.astype(np.int32)
  return _xp(codes).where(codes == PAD, 0, codes - (PRINTABLE[0] - 1))


def classes_to_codes(classes):
  """Class indices -> ASCII codes (0 = padding)."""
  return _xp(classes).where(classes == 0, PAD, classes + (PRINTABLE[0] - 1))


def text_to_classes(text: str) -> np.ndarray:
  """Text -> (28, 28) int32 class indices (0 = padding)."""
  return codes_to_classes(text_to_codes(text)[..., 0])


def classes_to_text(classes) -> str:
  """(28, 28) class indices (or (28, 28, 96) logits) -> text; padding cells are dropped."""
  classes = np.asarray(classes)
  if classes.ndim == 3:
    classes = classes.argmax(-1)
  codes = classes_to_codes(classes.reshape(-1)).astype(np.uint8)
  return codes[codes != PAD].tobytes().decode("ascii")


def image_to_text(revealed) -> str:
  """The regression head's reading: revealed (28, 28, 1) in [0, 1] -> round(255·T') clipped to printable ASCII,
  trailing spaces cut."""
  codes = np.clip(np.round(np.asarray(revealed, np.float32) * 255.0), *PRINTABLE).astype(np.uint8)
  return codes.reshape(-1).tobytes().decode("ascii").rstrip(" ")


# --- Corpus --------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _topics() -> tuple[tuple[str, str], ...]:
  from pydoc_data import topics  # pylint: disable=g-import-not-at-top
  return tuple((k, re.sub(r"\s+", " ", topics.topics[k]).strip()) for k in sorted(topics.topics))


def topic_names(split: str) -> list[str]:
  """The topics of 'train' or 'eval' (every `HELD_OUT_EVERY`-th topic by sorted name is held out)."""
  if split not in ("train", "eval"):
    raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
  held = split == "eval"
  return [k for i, (k, _) in enumerate(_topics()) if (i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == held]


@functools.lru_cache(maxsize=2)
def text_split(split: str) -> np.ndarray:
  """The split's topics joined by spaces, as uint8 codes in the printable range."""
  names = set(topic_names(split))
  return _ascii_codes(" ".join(t for k, t in _topics() if k in names))


def _window(codes: np.ndarray, start: int, length: int = CHARS) -> np.ndarray:
  w = np.full(CHARS, PAD, np.uint8)
  w[:length] = codes[start:start + length]
  return w.reshape(SIDE, SIDE, 1)


# --- Data ----------------------------------------------------------------------------------------------------------

def train_dataset(config: ml_collections.ConfigDict) -> grain.MapDataset:
  """Batches {'cover': (b, 28, 28, 1), 'secret': (b, 1, 28, 28, 1) ASCII codes (0 = padding)}, uint8."""
  pi, pc = jax.process_index(), jax.process_count()
  covers = pipeline.train_source(config.data, config.data.cover, pi, pc)
  cut = pipeline.preprocess_fn(config.data, config.data.cover, train=True)
  texts = text_split("train")
  short = float(config.data.get("short_fraction", 0.0))

  def make_example(index, rng: np.random.Generator):
    del index
    cover = cut(covers[int(rng.integers(len(covers)))], rng)
    start = int(rng.integers(texts.size - CHARS))
    length = int(rng.integers(1, CHARS)) if rng.random() < short else CHARS
    return {"cover": cover, "secret": _window(texts, start, length)[None]}

  return pipeline.example_stream(make_example, seed=config.seed, global_batch=config.batch_size,
                                 process_index=pi, process_count=pc)


class TextEvalSet(pipeline.EvalSet):
  """Held-out covers, each with its own full-length window of the held-out topics (consecutive windows; they
  overlap only when the covers outnumber the non-overlapping windows)."""

  def __init__(self, config: ml_collections.ConfigDict):
    data = config.data
    self._covers, self._cut = pipeline.eval_source(data, data.cover)
    self._texts = text_split("eval")
    n = len(self._covers)
    self.length = min(n, data.eval_max_examples) if data.get("eval_max_examples") else n
    self._stride = max(1, min(CHARS, (self._texts.size - CHARS) // max(1, self.length - 1)))

  def example(self, i: int) -> dict[str, np.ndarray]:
    start = (i * self._stride) % (self._texts.size - CHARS)
    return {"cover": self._cut(self._covers[i], None), "secret": _window(self._texts, start)[None]}


def eval_set(config: ml_collections.ConfigDict) -> TextEvalSet:
  return TextEvalSet(config)


# --- Networks, losses, steps ---------------------------------------------------------------------------------------

def _head(config: ml_collections.ConfigDict) -> str:
  head = config.model.get("head", "class")
  if head not in HEADS:
    raise errors.ConfigError(f"model.head must be one of {', '.join(HEADS)}, got {head!r}")
  return head


def networks(config: ml_collections.ConfigDict):
  return models.make_networks(config.model, config.data.channels, NUM_CLASSES)


def optimizers(config: ml_collections.ConfigDict):
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  return {name: tx for name in networks(config)}


def _as_grey(batch: dict) -> dict:
  """The regression head's batch: padding read as spaces, codes as a grey secret image."""
  return dict(batch, secret=jnp.where(batch["secret"] == PAD, PRINTABLE[0], batch["secret"]).astype(jnp.uint8))


def _hide(nets, params, cover, classes):
  return nets["hide"].apply(params["hide"], cover, [nets["prep"].apply(params["prep"], classes)])


def _levels(params):
  """The per-class grey levels: learned by prep, shared with reveal."""
  return params["prep"]["params"]["levels"]


def _reveal(nets, params, container):
  return nets["reveal"].apply(params["reveal"], container, _levels(params))


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  if _head(config) == "regress":
    return deepstego.init_state(config, rng, _as_grey(batch))
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  classes = codes_to_classes(batch["secret"][:, 0, ..., 0])
  k_prep, k_hide, k_reveal, k_state = jax.random.split(rng, 4)
  params = {"prep": nets["prep"].init(k_prep, classes)}
  params["hide"] = nets["hide"].init(k_hide, cover, [nets["prep"].apply(params["prep"], classes)])
  params["reveal"] = nets["reveal"].init(k_reveal, cover, _levels(params))
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "opt_state": {name: tx.init(params[name]) for name, tx in optimizers(config).items()},
      "rng": jax.random.key_data(k_state),
  }


def _char_counts(logits, classes):
  """(correct characters, characters) per message: padding cells are not characters."""
  real = classes != 0
  correct = (jnp.argmax(logits, -1) == classes) & real
  return jnp.sum(correct, axis=(1, 2)), jnp.sum(real, axis=(1, 2))


def _received(container, straight_through: bool):
  """What the revealer reads in training: the container clipped to [0, 1] (no gradient beyond it, so values out
  of range are not rewarded) and, with `straight_through`, rounded to 8 bits with the identity's gradient."""
  x = jnp.clip(container, 0.0, 1.0)
  return x + jax.lax.stop_gradient(metrics.quantize_8bit(x) - x) if straight_through else x


def loss_fn(config, params, batch, rng):
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  classes = codes_to_classes(batch["secret"][:, 0, ..., 0])
  container = _hide(nets, params, cover, classes)
  received = _received(container, config.loss.straight_through)
  if config.loss.noise_std:
    received = received + config.loss.noise_std * jax.random.normal(rng, received.shape)
  logits = _reveal(nets, params, received)
  ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, classes))
  cover_mse = losses.mse(cover, container)
  loss = config.loss.container_weight * cover_mse + config.loss.text_weight * ce
  correct, count = _char_counts(jax.lax.stop_gradient(logits), classes)
  return loss, {"loss": loss, "cover_mse": cover_mse, "cross_entropy": ce,
                "correct": jnp.sum(correct).astype(jnp.float32), "chars": jnp.sum(count).astype(jnp.float32)}


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  """One Adam step; metrics include the character accuracy of this training batch (before the update, on the
  8-bit container when `loss.straight_through`)."""
  if _head(config) == "regress":
    return deepstego.train_step(config, state, _as_grey(batch))
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, m = optim.microbatch_grads(lambda p, b, r: loss_fn(config, p, b, r), state["params"], batch, rng,
                                    config.microbatches)
  params, opt_state = optim.apply_updates(optimizers(config), state["params"], state["opt_state"], grads)
  m = dict(m, cover_psnr=-10.0 * jnp.log10(m["cover_mse"]), char_accuracy=m.pop("correct") / m.pop("chars"))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def _container_metrics(cover, container) -> dict:
  return {"container_psnr": metrics.psnr(cover, container), "container_ssim": metrics.ssim(cover, container),
          "container_apd": metrics.apd(cover, container)}


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per message: character accuracy (argmax == character), exact match (all characters right), cross-entropy
  and the 8-bit container's PSNR/SSIM/APD; revealed from the 8-bit container."""
  codes = batch["secret"][:, 0].astype(jnp.int32)
  if _head(config) == "regress":
    grey = _as_grey(batch)
    out, images = deepstego.eval_step(config, state, grey)
    pred = jnp.clip(jnp.round(images["revealed_0"] * 255.0), *PRINTABLE).astype(jnp.int32)
    right = (pred == grey["secret"][:, 0]).reshape(pred.shape[0], -1)
    out.update(char_accuracy=jnp.mean(right, axis=1), exact_match=jnp.all(right, axis=1).astype(jnp.float32))
    return out, images
  nets = networks(config)
  params = state["params"]
  cover = batch["cover"].astype(jnp.float32) / 255.0
  classes = codes_to_classes(codes[..., 0])
  container = metrics.quantize_8bit(_hide(nets, params, cover, classes))
  logits = _reveal(nets, params, container)
  correct, count = _char_counts(logits, classes)
  pred = jnp.argmax(logits, -1)
  out = dict(_container_metrics(cover, container),
             char_accuracy=correct / jnp.maximum(count, 1),
             exact_match=jnp.all(pred == classes, axis=(1, 2)).astype(jnp.float32),
             cross_entropy=jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, classes), axis=(1, 2)))
  images = {"cover": cover, "container": container, "secret_0": codes.astype(jnp.float32) / 255.0,
            "revealed_0": classes_to_codes(pred)[..., None].astype(jnp.float32) / 255.0}
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict):
  return deepstego.grid_columns(config, images)


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  return deepstego.dummy_batch(config, batch_size, size)
