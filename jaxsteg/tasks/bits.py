"""Bit payloads, SteganoGAN-style (Zhang et al. 2019): D bits per pixel in a cover, an encoder, a decoder, a critic.

Loss of encoder + decoder: mse_weight·MSE(C', C) + BCE(logits, M) + critic_weight·critic(C'); the critic (WGAN,
weights clipped to ±clip) learns critic(C') − critic(C) in the same jitted step, from the same batch. One
gradient of the sum updates all three networks: the critic sees stop_gradient(C') and the encoder sees the
critic's parameters through stop_gradient, so each network gets exactly its own objective. With
`loss.adversary` > 0 a steganalyser (XuNet with GroupNorm) plays the same game in the same step
(`losses.steganalyser_game`): the encoder's loss gains `loss.adversary` × −log P(cover | 8-bit container).

The decoder sees the container rounded to 8 bits in training (straight-through gradient [inf]; SteganoGAN
trains on the float container), the same value range as at evaluation and in the CLI, so no scale mismatch can
appear between hiding and revealing; with a `noise` block (`jaxsteg.attacks.channel`) the 8-bit container then
passes differentiable distortions (JPEG, noise, resize, ...) before the decoder. Messages are uniform random
bits, drawn inside the step in training and fixed per held-out cover in evaluation.

Capabilities: Task, BitChannel. Text goes through `jaxsteg.payload` (the codec, and `channel`: this model as a
host-side channel, with hide-time refinement of the containers); the configs add the `text_recovery`
evaluator (the exact text path over every held-out cover).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.attacks import channel
from jaxsteg.data import pipeline
from jaxsteg.models import dense
from jaxsteg.models import steganalysis as steganalysis_models

if TYPE_CHECKING:   # Annotations only: grain is imported where the datasets are made.
  import grain

NETWORKS = ("encoder", "decoder", "critic")


def adversarial(config: ml_collections.ConfigDict) -> bool:
  """Whether the encoder trains against a steganalyser in its own step (`loss.adversary` > 0)."""
  return bool(config.loss.get("adversary", 0.0))


def networks(config: ml_collections.ConfigDict):
  nets = dense.make_networks(config.model)
  if adversarial(config):
    nets["adversary"] = steganalysis_models.XuNetGN()
  return nets


def optimizers(config: ml_collections.ConfigDict):
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  return {name: tx for name in networks(config)}


# ------------------------------------------------------------------------------------------------ data


def train_dataset(config: ml_collections.ConfigDict) -> grain.MapDataset:
  """This process's training batches {'cover': (b, S, S, C) uint8}; example i is a function of (seed, i)."""
  pi, pc = jax.process_index(), jax.process_count()
  covers = pipeline.train_source(config.data, config.data.cover, pi, pc)
  cut = pipeline.preprocess_fn(config.data, config.data.cover, train=True)

  augment = pipeline.augment_fn(config.data)

  def make_example(index, rng: np.random.Generator):
    del index
    return {"cover": augment(cut(covers[int(rng.integers(len(covers)))], rng), rng)}

  return pipeline.example_stream(make_example, seed=config.seed, global_batch=config.batch_size,
                                 process_index=pi, process_count=pc)


class BitsEvalSet(pipeline.EvalSet):
  """Held-out covers, each with its own fixed random bits: example i = {'cover', 'bits'} (uint8)."""

  def __init__(self, config: ml_collections.ConfigDict, depth: int | None = None):
    data = config.data
    self._covers, self._cut = pipeline.eval_source(data, data.cover)
    self.size, self.seed = data.eval_size, config.seed
    self.depth = config.model.depth if depth is None else depth
    n = len(self._covers)
    self.length = min(n, data.eval_max_examples) if data.get("eval_max_examples") else n

  def cover(self, i: int) -> np.ndarray:
    return self._cut(self._covers[i], None)

  def example(self, i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([self.seed, 7, i])
    return {"cover": self.cover(i),
            "bits": rng.integers(0, 2, (self.size, self.size, self.depth), dtype=np.uint8)}


def eval_set(config: ml_collections.ConfigDict) -> BitsEvalSet:
  return BitsEvalSet(config)


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  size = size or config.data.eval_size
  return {"cover": jnp.zeros((batch_size, size, size, config.data.channels), jnp.uint8)}


# ------------------------------------------------------------------------------------------------ model


def hide(nets, params, cover: jnp.ndarray, bits: jnp.ndarray) -> jnp.ndarray:
  """Float container (not yet rounded) of covers (B,H,W,C) in [0,1] and bits (B,H,W,D) in {0,1}."""
  return nets["encoder"].apply(params["encoder"], cover, bits.astype(cover.dtype))


def reveal(nets, params, container: jnp.ndarray) -> jnp.ndarray:
  """Bit logits (B,H,W,D) of containers (B,H,W,C) in [0,1]."""
  return nets["decoder"].apply(params["decoder"], container)


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  channel.check(config)
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  bits = jnp.zeros(cover.shape[:3] + (config.model.depth,), jnp.float32)
  k_enc, k_dec, k_crit, k_state = jax.random.split(rng, 4)
  params = {"encoder": nets["encoder"].init(k_enc, cover, bits),
            "decoder": nets["decoder"].init(k_dec, cover),
            "critic": nets["critic"].init(k_crit, cover)}
  if adversarial(config):
    params["adversary"] = nets["adversary"].init(jax.random.fold_in(k_crit, 1), cover * 255.0)
  params["critic"] = _clip(params["critic"], config.loss.critic_clip)
  txs = optimizers(config)
  return {"step": jnp.zeros((), jnp.int32), "params": params,
          "opt_state": {n: tx.init(params[n]) for n, tx in txs.items()},
          "rng": jax.random.key_data(k_state)}


def _clip(params, bound: float):
  return jax.tree.map(lambda p: jnp.clip(p, -bound, bound), params) if bound else params


def psnr_target_at(loss_cfg: ml_collections.ConfigDict, step) -> jnp.ndarray:
  """The hinge's target PSNR, raised linearly from `psnr_target_start` over `psnr_ramp_steps` [inf]: a large
  early signal lets the decoder find the bits fast, then the quality is raised to the target."""
  if not loss_cfg.get("psnr_ramp_steps"):
    return jnp.asarray(loss_cfg.psnr_target, jnp.float32)
  frac = jnp.clip(step / loss_cfg.psnr_ramp_steps, 0.0, 1.0)
  return loss_cfg.psnr_target_start + frac * (loss_cfg.psnr_target - loss_cfg.psnr_target_start)


def loss_fn(config, params, batch, rng, step=0):
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  bits = jax.random.bernoulli(rng, 0.5, cover.shape[:3] + (config.model.depth,)).astype(jnp.float32)
  container = hide(nets, params, cover, bits)
  if channel.enabled(config):   # The 8-bit container through differentiable distortions (`noise` block).
    received = channel.apply(config, container, cover, jax.random.fold_in(rng, 1), step)
  else:
    received = metrics.straight_through_8bit(container) if config.loss.train_on_8bit else container
  logits = reveal(nets, params, received)
  cover_mse = losses.mse(cover, container)
  bce = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, bits))
  gen_loss = config.loss.mse_weight * cover_mse + config.loss.bce_weight * bce
  if config.loss.get("psnr_target"):
    # [inf] A hinge on the cover error above the target PSNR: the quality is held at the target and the
    # rest of the gradient goes to the bits (SteganoGAN has only the fixed 100·MSE weight).
    target_mse = 10.0 ** (-psnr_target_at(config.loss, step) / 10.0)
    gen_loss += config.loss.target_weight * jax.nn.relu(cover_mse - target_mse)
  aux = {}
  loss = gen_loss
  if config.loss.critic_weight:
    frozen_critic = jax.lax.stop_gradient(params["critic"])
    fake_score = jnp.mean(nets["critic"].apply(frozen_critic, container))
    gen_loss += config.loss.critic_weight * fake_score
    # The critic's own WGAN objective: score containers high and covers low.
    critic_loss = (jnp.mean(nets["critic"].apply(params["critic"], cover))
                   - jnp.mean(nets["critic"].apply(params["critic"], jax.lax.stop_gradient(container))))
    loss = gen_loss + critic_loss
    aux["critic_loss"] = critic_loss
  if adversarial(config):
    game = losses.steganalyser_game(nets["adversary"].apply, params["adversary"], cover, container)
    gen_loss += config.loss.adversary * game["fool"]
    loss = loss + config.loss.adversary * game["fool"] + game["detector"]
    aux.update(adversary_fool=game["fool"], adversary_loss=game["detector"], adversary_accuracy=game["accuracy"])
  accuracy = jnp.mean(((logits > 0) == (bits > 0.5)).astype(jnp.float32))
  return loss, dict(aux, loss=gen_loss, cover_mse=cover_mse, bce=bce, bit_accuracy=accuracy)


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, m = optim.microbatch_grads(lambda p, b, r: loss_fn(config, p, b, r, state["step"]), state["params"],
                                    batch, rng, config.microbatches)
  txs = optimizers(config)
  if not config.loss.critic_weight:
    txs.pop("critic")   # No adversarial term: the critic stays at its initialisation.
  params, opt_state = optim.apply_updates(txs, state["params"], state["opt_state"], grads)
  params["critic"] = _clip(params["critic"], config.loss.critic_clip)
  m = dict(m, cover_psnr=-10.0 * jnp.log10(m["cover_mse"]),
           rs_bpp=config.model.depth * (2.0 * m["bit_accuracy"] - 1.0))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-cover metrics of the 8-bit container and the bits decoded from it."""
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  bits = batch["bits"].astype(jnp.float32)
  container = metrics.quantize_8bit(hide(nets, state["params"], cover, bits))
  logits = reveal(nets, state["params"], container)
  accuracy = jnp.mean(((logits > 0) == (bits > 0.5)).astype(jnp.float32), axis=(1, 2, 3))
  out = container_metrics(cover, container, accuracy, config.model.depth)
  errors = jnp.mean(jnp.abs((logits > 0).astype(jnp.float32) - bits), axis=-1, keepdims=True)
  return out, {"cover": cover, "container": container, "errors": errors}


def container_metrics(cover, container, accuracy, bits_per_pixel: float) -> dict:
  """Per-cover metrics of 8-bit containers (B, H, W, C) and the bit accuracy (B,) read from them."""
  return {
      "container_psnr": metrics.psnr(cover, container),
      "container_ssim": metrics.ssim(cover, container),
      "container_apd": metrics.apd(cover, container),
      "bit_accuracy": accuracy,
      "bit_error_rate": 1.0 - accuracy,
      "rs_bpp": bits_per_pixel * (2.0 * accuracy - 1.0),   # Reed-Solomon bits per pixel (SteganoGAN).
  }


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  del config
  return [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0)),
          ("bit errors", jnp.repeat(images["errors"], 3, axis=-1))]


# ------------------------------------------------------------------------------------------- BitChannel


def bit_depth(config: ml_collections.ConfigDict) -> int:
  return config.model.depth


def bit_functions(config: ml_collections.ConfigDict) -> tasks.BitFunctions:
  """The pure hide/reveal functions (`jaxsteg.payload.channel` jits them, refines and splits batches)."""
  nets = networks(config)
  return tasks.BitFunctions(hide=lambda p, cover, bits: hide(nets, p, cover, bits),
                            reveal=lambda p, container: reveal(nets, p, container))
