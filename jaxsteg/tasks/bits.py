"""Bit payloads, SteganoGAN-style (Zhang et al. 2019): D bits per pixel in a cover, an encoder, a decoder, a critic.

Loss of encoder + decoder: mse_weight·MSE(C', C) + BCE(logits, M) + critic_weight·critic(C'); the critic (WGAN,
weights clipped to ±clip) learns critic(C') − critic(C) in the same jitted step, from the same batch. One
gradient of the sum updates all three networks: the critic sees stop_gradient(C') and the encoder sees the
critic's parameters through stop_gradient, so each network gets exactly its own objective.

The decoder sees the container rounded to 8 bits in training (straight-through gradient [inf]; SteganoGAN
trains on the float container), the same value range as at evaluation and in the CLI, so no scale mismatch can
appear between hiding and revealing. Messages are uniform random bits, drawn inside the step in training and
fixed per held-out cover in evaluation.

Containers that carry text are refined at hide time when `eval.refine_steps` > 0 [inf] (`refine_container`:
gradient steps on the container's pixels through the fixed decoder, after Kishore et al. 2021), with a floor
on their PSNR; the model metrics of `eval_step` are the networks' own, unrefined.

`extra_evaluation` runs the exact text path (`jaxsteg.data.payloads`) over every held-out cover: the bit error
rate on that cover is probed with random bits (refined like a message container), the Reed-Solomon code is
sized to it (with a margin) and gives the cover's capacity before embedding; then encrypted UTF-8 text at
`eval.text_bpp` net bits per pixel -> bits -> container -> PNG file round trip -> decoder -> text. It reports
the exact-recovery rate (covers too small for the message count as failures), the rate among carried messages,
wrong texts (0), and the PSNR/SSIM of the containers that carried text.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import NamedTuple

from absl import logging
import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg.data import payloads
from jaxsteg.data import pipeline
from jaxsteg.models import dense

NETWORKS = ("encoder", "decoder", "critic")


def networks(config: ml_collections.ConfigDict):
  return dense.make_networks(config.model)


def optimizers(config: ml_collections.ConfigDict):
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  return {name: tx for name in NETWORKS}


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


class BitsEvalSet:
  """Held-out covers, each with its own fixed random bits: example i = {'cover', 'bits'} (uint8)."""

  def __init__(self, config: ml_collections.ConfigDict):
    data = config.data
    self._covers, self._cut = pipeline.eval_source(data, data.cover)
    self.size, self.depth, self.seed = data.eval_size, config.model.depth, config.seed
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
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  bits = jnp.zeros(cover.shape[:3] + (config.model.depth,), jnp.float32)
  k_enc, k_dec, k_crit, k_state = jax.random.split(rng, 4)
  params = {"encoder": nets["encoder"].init(k_enc, cover, bits),
            "decoder": nets["decoder"].init(k_dec, cover),
            "critic": nets["critic"].init(k_crit, cover)}
  params["critic"] = _clip(params["critic"], config.loss.critic_clip)
  txs = optimizers(config)
  return {"step": jnp.zeros((), jnp.int32), "params": params,
          "opt_state": {n: txs[n].init(params[n]) for n in NETWORKS},
          "rng": jax.random.key_data(k_state)}


def _clip(params, bound: float):
  return jax.tree.map(lambda p: jnp.clip(p, -bound, bound), params) if bound else params


def straight_through_8bit(x: jnp.ndarray) -> jnp.ndarray:
  """The 8-bit rounded container in the forward pass, the identity's gradient in the backward pass."""
  return x + jax.lax.stop_gradient(metrics.quantize_8bit(x) - x)


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
  received = straight_through_8bit(container) if config.loss.train_on_8bit else container
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
  out = {
      "container_psnr": metrics.psnr(cover, container),
      "container_ssim": metrics.ssim(cover, container),
      "container_apd": metrics.apd(cover, container),
      "bit_accuracy": accuracy,
      "bit_error_rate": 1.0 - accuracy,
      "rs_bpp": config.model.depth * (2.0 * accuracy - 1.0),
  }
  errors = jnp.mean(jnp.abs((logits > 0).astype(jnp.float32) - bits), axis=-1, keepdims=True)
  return out, {"cover": cover, "container": container, "errors": errors}


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  del config
  return [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0)),
          ("bit errors", jnp.repeat(images["errors"], 3, axis=-1))]


# ------------------------------------------------------------------------------------- single images (CLI)


def refine_container(config, nets, params, cover: jnp.ndarray, bits: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """[inf] Hide-time refinement of containers (after Kishore et al. 2021, "Fixed Neural Network
  Steganography"): starting from the encoder's container, Adam steps on the container's pixels lower a hinge
  on the decoder's logits of the 8-bit rounded container (straight-through), max(0, margin − (2m − 1)·logit),
  while a second hinge keeps each container's PSNR at or above `eval.refine_psnr`. Stops after
  `eval.refine_steps` or once every rounded container decodes with at most `eval.refine_tolerance` of its
  bits wrong (the error correction takes the rest); returns, per container,
  the rounded container with the fewest bit errors seen, and that count. The networks are unchanged: this is
  what a sender can do with the decoder in hand.

  cover (B, H, W, C) in [0, 1], bits (B, H, W, D) in {0, 1} -> (containers on the 8-bit grid, errors (B,)).
  Each example's loss is its own (summed over the batch; Adam is elementwise), so examples do not interact.
  """
  ev = config.eval
  signs = 2.0 * bits - 1.0
  target_mse = 10.0 ** (-ev.refine_psnr / 10.0)
  tx = optax.adam(ev.refine_lr)
  axes = (1, 2, 3)

  def objective(x):
    q = straight_through_8bit(x)
    logits = reveal(nets, params, q)
    per_example = (jnp.mean(jax.nn.relu(ev.refine_margin - signs * logits), axis=axes)
                   + 1e4 * jax.nn.relu(jnp.mean(jnp.square(q - cover), axis=axes) - target_mse))
    return jnp.sum(per_example), jnp.sum((logits > 0) != (bits > 0.5), axis=axes)

  def keep_best(x, err, best_x, best_err):
    better = err < best_err
    return jnp.where(better[:, None, None, None], x, best_x), jnp.where(better, err, best_err)

  enough = int(ev.get("refine_tolerance", 0.0) * bits[0].size)   # Bit errors per container left to the code.

  def cond(carry):
    i, _, _, _, best_err = carry
    return (i < ev.refine_steps) & jnp.any(best_err > enough)

  def body(carry):
    i, x, opt_state, best_x, best_err = carry
    (_, err), grad = jax.value_and_grad(objective, has_aux=True)(x)
    best_x, best_err = keep_best(x, err, best_x, best_err)
    updates, opt_state = tx.update(grad, opt_state)
    return i + 1, jnp.clip(x + updates, 0.0, 1.0), opt_state, best_x, best_err

  x0 = hide(nets, params, cover, bits)
  _, err0 = objective(x0)
  carry = (jnp.zeros((), jnp.int32), x0, tx.init(x0), x0, err0)
  _, x, _, best_x, best_err = jax.lax.while_loop(cond, body, carry)
  best_x, best_err = keep_best(x, objective(x)[1], best_x, best_err)   # The last update is checked too.
  return metrics.quantize_8bit(best_x), best_err


class HostFns(NamedTuple):
  """Jitted batch functions on `devices` (the batch is split over them): encode (refining when the config
  says so) and decode."""
  encode: Callable
  decode: Callable
  devices: int


def _host_fns(config, devices=None) -> HostFns:
  """Encode/decode for host arrays; `devices` (default: the first local device) share each batch."""
  nets = networks(config)
  devices = list(devices) if devices else jax.local_devices()[:1]
  mesh = jax.sharding.Mesh(np.asarray(devices), ("batch",))
  split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
  whole = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  if config.eval.get("refine_steps", 0) > 0:
    enc = lambda p, c, b: refine_container(config, nets, p, c, b)[0]  # pylint: disable=unnecessary-lambda-assignment
  else:
    enc = lambda p, c, b: metrics.quantize_8bit(hide(nets, p, c, b))  # pylint: disable=unnecessary-lambda-assignment
  return HostFns(jax.jit(enc, in_shardings=(whole, split, split), out_shardings=split),
                 jax.jit(lambda p, c: reveal(nets, p, c), in_shardings=(whole, split), out_shardings=split),
                 len(devices))


def _padded(x: np.ndarray, multiple: int) -> np.ndarray:
  pad = -len(x) % multiple
  return np.concatenate([x, np.repeat(x[:1], pad, axis=0)]) if pad else x


def hide_bits_batch(config, params, covers: np.ndarray, bits: np.ndarray, fns: HostFns | None = None) -> np.ndarray:
  """Covers (N, H, W, C) uint8 and bits (N, H, W, D) -> 8-bit containers (N, H, W, C) uint8 (refined when
  `eval.refine_steps` > 0)."""
  fns = fns or _host_fns(config)
  n, k = len(covers), fns.devices
  c = _padded(np.asarray(covers, np.float32) / 255.0, k)
  b = _padded(np.asarray(bits, np.float32), k)
  # One container per device at a time: a refinement stops as soon as its own containers decode without
  # error, so easy covers do not wait for hard ones (one compiled shape for every chunk).
  out = [np.asarray(fns.encode(params, c[i:i + k], b[i:i + k])) for i in range(0, len(c), k)]
  return np.round(np.concatenate(out) * 255.0).astype(np.uint8)[:n]


def reveal_logits_batch(config, params, containers: np.ndarray, fns: HostFns | None = None) -> np.ndarray:
  """Containers (N, H, W, C) uint8 -> bit logits (N, H, W, D) float32 (> 0 means 1)."""
  fns = fns or _host_fns(config)
  n = len(containers)
  return np.asarray(fns.decode(params, _padded(np.asarray(containers, np.float32) / 255.0, fns.devices)))[:n]


def hide_bits(config, params, cover: np.ndarray, bits: np.ndarray, fns: HostFns | None = None) -> np.ndarray:
  """One cover (H, W, C) uint8 and bits (H, W, D) -> its 8-bit container (H, W, C) uint8."""
  return hide_bits_batch(config, params, cover[None], bits[None], fns)[0]


def reveal_logits(config, params, container: np.ndarray, fns: HostFns | None = None) -> np.ndarray:
  """One container (H, W, C) uint8 -> bit logits (H, W, D) float32 (> 0 means 1)."""
  return reveal_logits_batch(config, params, container[None], fns)[0]


# --------------------------------------------------------------------------------- exact text evaluation

_ALPHABET = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()-\n"
             "éèüößñçåøæ€£©°±×÷αβγδλπΩЖжшщ你好世界日本語한국어✓★🙂🚀")


def sample_text(rng: np.random.Generator, num_bytes: int) -> str:
  """Random UTF-8 text of exactly `num_bytes` bytes, mixing 1- to 4-byte characters."""
  chars, size = [], 0
  while size < num_bytes:
    ch = _ALPHABET[int(rng.integers(len(_ALPHABET)))]
    n = len(ch.encode("utf-8"))
    if size + n > num_bytes:
      ch, n = "x", 1
    chars.append(ch)
    size += n
  return "".join(chars)


PROBE_MARGIN = (1.5, 0.005)   # [inf] Plan for 1.5 × the probed bit error rate + 0.5 %.


def probe_bits(config, shape: tuple[int, int], seed: int) -> np.ndarray:
  """The random bits (H, W, D) a cover of this size is probed with."""
  h, w = shape
  return np.random.default_rng([seed, h, w]).integers(0, 2, (h, w, config.model.depth), dtype=np.uint8)


def probe_bers(config, params, covers: np.ndarray, seeds, fns=None) -> np.ndarray:
  """The bit error rate of this model on each cover (N, H, W, C): random bits in, the 8-bit container out
  (refined as a message container is), decoded. Text bits are whitened (and random when encrypted), so this
  is the error rate a message will see there."""
  bits = np.stack([probe_bits(config, covers.shape[1:3], s) for s in seeds])
  logits = reveal_logits_batch(config, params, hide_bits_batch(config, params, covers, bits, fns), fns)
  return np.mean((logits > 0) != (bits > 0), axis=(1, 2, 3))


def probe_ber(config, params, cover: np.ndarray, fns=None, seed: int = 0) -> float:
  """`probe_bers` of one cover (H, W, C)."""
  bits = probe_bits(config, cover.shape[:2], seed)
  logits = reveal_logits(config, params, hide_bits(config, params, cover, bits, fns), fns)
  return float(np.mean((logits > 0) != (bits > 0)))


def design_ber(probed: float) -> float:
  """The bit error rate a message is planned for on a cover whose probe gave `probed`."""
  return float(min(0.5, PROBE_MARGIN[0] * probed + PROBE_MARGIN[1]))


def _png_round_trip(img: np.ndarray) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buf = io.BytesIO()
  Image.fromarray(img).save(buf, format="PNG")
  buf.seek(0)
  with Image.open(buf) as im:
    return np.asarray(im.convert("RGB") if img.shape[-1] == 3 else im)


def extra_evaluation(config, setup, state, eval_set_: BitsEvalSet, outdir) -> dict[str, float]:
  """The exact text path over every held-out cover, each planned from its own probed error rate.

  For each cover: probe the error rate (random bits) -> capacity -> encrypted UTF-8 text of exactly
  `eval.text_bpp` net bits per pixel (when it fits) -> container -> PNG file round trip -> decoder -> text.
  A cover whose capacity is below the message counts as a failure of exact recovery (the CLI would refuse it
  with its maximum); a carried message must come back exactly (never wrong text: that would be a bug).
  """
  del setup
  params = jax.device_get(state["params"])
  fns = _host_fns(config, jax.local_devices())   # Every cover at once, split over this host's devices.
  h = w = eval_set_.size
  depth = config.model.depth
  passphrase = config.eval.get("text_passphrase") or None
  num_bytes = int(config.eval.text_bpp * h * w / 8)
  covers = np.stack([eval_set_.cover(i) for i in range(eval_set_.length)])
  probed = probe_bers(config, params, covers, [config.seed + i for i in range(len(covers))], fns)
  rows, messages = [], {}
  for i in range(len(covers)):
    plan_ber = design_ber(float(probed[i]))
    cap = payloads.capacity(h, w, depth, ber=plan_ber, encrypted=passphrase is not None)
    row = {"cover": i, "probe_ber": float(probed[i]), "design_ber": plan_ber, "capacity_bytes": cap,
           "carried": False, "exact": False, "error": ""}
    rows.append(row)
    text = sample_text(np.random.default_rng([config.seed, 11, i]), num_bytes)
    try:
      bits = payloads.encode_text(text, (h, w, depth), ber=plan_ber, passphrase=passphrase, compress=False)
    except payloads.PayloadTooLarge as e:
      row["error"] = str(e)
      continue
    row["carried"] = True
    messages[i] = (text, bits)
  if messages:
    idx = sorted(messages)
    sent = np.stack([messages[i][1] for i in idx])
    containers = hide_bits_batch(config, params, covers[idx], sent, fns)
    received = np.stack([_png_round_trip(c).reshape(c.shape) for c in containers])
    logits = reveal_logits_batch(config, params, received, fns)
    c01, r01 = covers[idx].astype(np.float32) / 255.0, received.astype(np.float32) / 255.0
    psnr, ssim = np.asarray(metrics.psnr(c01, r01)), np.asarray(metrics.ssim(c01, r01))
    for j, i in enumerate(idx):
      row, text = rows[i], messages[i][0]
      row["raw_bit_error_rate"] = float(np.mean((logits[j] > 0) != (sent[j] > 0)))
      row["container_psnr"], row["container_ssim"] = float(psnr[j]), float(ssim[j])
      try:
        decoded = payloads.decode_text(logits[j], passphrase=passphrase)
        row["exact"] = decoded == text
        row["error"] = "" if row["exact"] else "WRONG TEXT"
      except payloads.PayloadError as e:
        row["error"] = f"{type(e).__name__}: {e}"
  carried = [r for r in rows if r["carried"]]
  caps = np.asarray([r["capacity_bytes"] for r in rows], np.float64)
  psnrs = np.asarray([r["container_psnr"] for r in carried], np.float64)
  ssims = np.asarray([r["container_ssim"] for r in carried], np.float64)
  raw_bers = np.asarray([r["raw_bit_error_rate"] for r in carried], np.float64)
  out = {
      "text_exact_recovery": float(np.mean([r["exact"] for r in rows])) if rows else 0.0,
      "text_carried_fraction": len(carried) / max(len(rows), 1),
      "text_exact_when_carried": float(np.mean([r["exact"] for r in carried])) if carried else 0.0,
      "text_wrong_text": float(sum(r["error"] == "WRONG TEXT" for r in rows)),
      "text_covers": float(len(rows)),
      "text_bytes": float(num_bytes),
      "text_net_bpp": 8.0 * num_bytes / (h * w),
      "text_capacity_bytes_mean": float(caps.mean()) if rows else 0.0,
      "text_capacity_bytes_min": float(caps.min()) if rows else 0.0,
      "text_capacity_bpp_mean": 8.0 * float(caps.mean()) / (h * w) if rows else 0.0,
      "text_probe_ber_mean": float(np.mean([r["probe_ber"] for r in rows])) if rows else 0.0,
      "text_probe_ber_max": float(np.max([r["probe_ber"] for r in rows])) if rows else 0.0,
      # The containers that carried the text (refined when eval.refine_steps > 0), after the PNG round trip.
      "text_container_psnr_mean": float(psnrs.mean()) if carried else 0.0,
      "text_container_psnr_min": float(psnrs.min()) if carried else 0.0,
      "text_container_ssim_mean": float(ssims.mean()) if carried else 0.0,
      "text_raw_ber_mean": float(raw_bers.mean()) if carried else 0.0,
      "text_raw_ber_max": float(raw_bers.max()) if carried else 0.0,
  }
  if jax.process_index() == 0:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "text_eval.json").write_text(json.dumps(
        {"summary": out, "encrypted": passphrase is not None, "cover_size": [h, w], "depth": depth,
         "probe_margin": PROBE_MARGIN, "refine_steps": int(config.eval.get("refine_steps", 0)),
         "per_cover": rows}, indent=2) + "\n")
  logging.info("Exact text: %d/%d covers recovered at %.3f net bpp (%d bytes); %d carried; capacity mean %.0f, "
               "min %.0f bytes", sum(r["exact"] for r in rows), len(rows), out["text_net_bpp"], num_bytes,
               len(carried), out["text_capacity_bytes_mean"], out["text_capacity_bytes_min"])
  return out
