"""Bit payloads in JPEG's own domain: dither modulation of luma DCT coefficients, laid out for a JPEG quality.

The learned dense bit models (`jaxsteg.tasks.bits`) carry 1-2 bits per pixel at ≥ 36 dB but lose ~30 % of them
to a JPEG re-save at quality 90 even when trained through the differentiable codec: too many errors for any
code to carry a 512-byte text in a 128×128 cover. This family puts K bits in each 8×8 block instead, on the
luma coefficients JPEG quantises least, as multiples of that very quantisation step (`jaxsteg.models.dct_qim`):
a JPEG at the design quality rounds them back onto their lattice points. Its field is (H//8, W//8, K)
(`bit_shape`); `jaxsteg hide-text --survive jpeg:90` plans a text on the error rate measured after that JPEG.

The embedding is not learned. The decoder's per-slot temperatures are (the confidence of each slot's soft
decision, which the text code's Viterbi and majority votes weigh): trained by binary cross-entropy through the
config's `noise` block, so they match the channel the messages are planned for. Training, data and evaluation
otherwise follow `jaxsteg.tasks.bits` (random bits drawn in the step, fixed bits per held-out cover).

Capabilities: Task, BitChannel.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import errors
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.attacks import channel
from jaxsteg.models import dct_qim
from jaxsteg.tasks import bits as dense_bits

NETWORKS = ("decoder",)

train_dataset = dense_bits.train_dataset   # Random training crops of the covers (sides multiples of 8).


def bit_depth(config: ml_collections.ConfigDict) -> int:
  """K, bits per 8×8 block."""
  return int(config.model.slots)


def bit_shape(config: ml_collections.ConfigDict, height: int, width: int) -> tuple[int, int, int]:
  return height // 8, width // 8, bit_depth(config)


class BlockBitsEvalSet(dense_bits.BitsEvalSet):
  """Held-out covers, each with its own fixed random bits (H//8, W//8, K) (uint8)."""

  def __init__(self, config: ml_collections.ConfigDict):
    super().__init__(config, bit_depth(config))

  def example(self, i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([self.seed, 7, i])
    cover = self.cover(i)
    return {"cover": cover, "bits": rng.integers(0, 2, (cover.shape[0] // 8, cover.shape[1] // 8, self.depth),
                                                 dtype=np.uint8)}


def eval_set(config: ml_collections.ConfigDict) -> BlockBitsEvalSet:
  return BlockBitsEvalSet(config)


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  return dense_bits.dummy_batch(config, batch_size, size)


def _check(config: ml_collections.ConfigDict) -> None:
  try:
    dct_qim.check(config.model)
  except ValueError as e:
    raise errors.ConfigError(str(e)) from e
  if config.data.image_size % 8 or config.data.eval_size % 8:
    raise errors.ConfigError(f"data.image_size and data.eval_size must be multiples of 8 (whole JPEG blocks), "
                             f"got {config.data.image_size} and {config.data.eval_size}")


def hide(config, params, cover: jnp.ndarray, bits: jnp.ndarray) -> jnp.ndarray:
  """The 8-bit container (B, H, W, C) in [0, 1] of covers (B, H, W, C) in [0, 1] and bits (B, H//8, W//8, K)."""
  del params   # The embedding has no parameters.
  m = config.model
  out = dct_qim.embed(jnp.round(cover * 255.0), bits, margin=float(m.margin), iterations=int(m.iterations),
                      **dct_qim.model_kwargs(m))
  return out / 255.0


def reveal(config, params, container: jnp.ndarray) -> jnp.ndarray:
  """Bit logits (B, H//8, W//8, K) of containers (B, H, W, C) in [0, 1]."""
  return dct_qim.read(container * 255.0, params["decoder"]["log_temperature"], **dct_qim.model_kwargs(config.model))


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  del batch
  _check(config)
  channel.check(config)
  params = {"decoder": dct_qim.init_params(bit_depth(config))}
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  return {"step": jnp.zeros((), jnp.int32), "params": params, "opt_state": {"decoder": tx.init(params["decoder"])},
          "rng": jax.random.key_data(rng)}


def loss_fn(config, params, batch, rng, step=0):
  cover = batch["cover"].astype(jnp.float32) / 255.0
  b, h, w = cover.shape[:3]
  bits = jax.random.bernoulli(rng, 0.5, (b,) + bit_shape(config, h, w)).astype(jnp.float32)
  container = jax.lax.stop_gradient(hide(config, params, cover, bits))
  received = channel.apply(config, container, cover, jax.random.fold_in(rng, 1), step) \
      if channel.enabled(config) else container
  logits = reveal(config, params, received)
  bce = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, bits))
  accuracy = jnp.mean(((logits > 0) == (bits > 0.5)).astype(jnp.float32))
  cover_mse = jnp.mean(jnp.square(container - cover))
  return bce, {"loss": bce, "bce": bce, "bit_accuracy": accuracy, "cover_mse": cover_mse}


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, m = optim.microbatch_grads(lambda p, b, r: loss_fn(config, p, b, r, state["step"]), state["params"],
                                    batch, rng, config.microbatches)
  txs = {"decoder": optim.make_optimizer(config.optim, config.num_train_steps)}
  params, opt_state = optim.apply_updates(txs, state["params"], state["opt_state"], grads)
  m = dict(m, cover_psnr=-10.0 * jnp.log10(m["cover_mse"]))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-cover metrics of the 8-bit container and the bits read from it."""
  cover = batch["cover"].astype(jnp.float32) / 255.0
  bits = batch["bits"].astype(jnp.float32)
  container = metrics.quantize_8bit(hide(config, state["params"], cover, bits))
  logits = reveal(config, state["params"], container)
  wrong = ((logits > 0) != (bits > 0.5)).astype(jnp.float32)
  accuracy = 1.0 - jnp.mean(wrong, axis=(1, 2, 3))
  out = dense_bits.container_metrics(cover, container, accuracy, bit_depth(config) / 64.0)
  # Bit errors per block, drawn over the block's pixels (the remainder of a side not a multiple of 8: none).
  per_block = jnp.repeat(jnp.repeat(jnp.mean(wrong, axis=-1, keepdims=True), 8, axis=1), 8, axis=2)
  errors_map = jnp.zeros(cover.shape[:3] + (1,)).at[:, :per_block.shape[1], :per_block.shape[2]].set(per_block)
  return out, {"cover": cover, "container": container, "errors": errors_map}


grid_columns = dense_bits.grid_columns


def bit_functions(config: ml_collections.ConfigDict) -> tasks.BitFunctions:
  """The pure hide/reveal functions (`jaxsteg.payload.channel` jits them)."""
  return tasks.BitFunctions(hide=lambda p, cover, b: hide(config, p, cover, b),
                            reveal=lambda p, container: reveal(config, p, container))
