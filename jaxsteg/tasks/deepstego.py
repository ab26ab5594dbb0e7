"""Deep Steganography task (Baluja 2017): losses, pure train/eval steps, evaluation outputs.

L = ‖C − C'‖² + β Σ_k ‖S_k − S'_k‖² (mean squared). One loss and one gradient: the cover term reaches prep and
hide, the secret terms all networks. In training the revealer sees C' + n (Gaussian, σ = loss.noise_std, with
gradients flowing through), so the secret is not kept in the least significant bits; with a `noise` block
(`jaxsteg.attacks.channel`) it first sees the 8-bit container through differentiable distortions (JPEG, noise,
resize, ...). At evaluation it sees the 8-bit rounded container, the PNG that would be sent. Capabilities:
Task, ImageHider.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.attacks import channel
from jaxsteg.data import pipeline
from jaxsteg.models import deepstego as models
from jaxsteg.models import steganalysis as steganalysis_models
from jaxsteg.tasks import common


def networks(config: ml_collections.ConfigDict):
  nets = models.make_networks(config.model, config.data.channels)
  if adversarial(config):
    nets["adversary"] = steganalysis_models.XuNetGN()
  return nets


def adversarial(config: ml_collections.ConfigDict) -> bool:
  """Whether the hider trains against a steganalyser in its own step (`loss.adversary` > 0)."""
  return bool(config.loss.get("adversary", 0.0))


def optimizers(config: ml_collections.ConfigDict):
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  return {name: tx for name in networks(config)}


def train_dataset(config: ml_collections.ConfigDict):
  return pipeline.make_train_dataset(config.data, num_secrets=config.model.num_secrets,
                                     global_batch=config.batch_size, seed=config.seed)


def eval_set(config: ml_collections.ConfigDict):
  return pipeline.make_eval_set(config.data, num_secrets=config.model.num_secrets)


def _to_float(batch: dict) -> tuple[jnp.ndarray, jnp.ndarray]:
  """uint8 batch -> cover (B, H, W, C) and secrets (B, K, H, W, C) in [0, 1]."""
  return batch["cover"].astype(jnp.float32) / 255.0, batch["secret"].astype(jnp.float32) / 255.0


def hide(nets, params, cover: jnp.ndarray, secrets: jnp.ndarray) -> jnp.ndarray:
  """Container (float, not yet rounded) of cover (B,H,W,C) and secrets (B,K,H,W,C)."""
  prepared = [nets[f"prep_{k}"].apply(params[f"prep_{k}"], secrets[:, k]) for k in range(secrets.shape[1])]
  return nets["hide"].apply(params["hide"], cover, prepared)


def reveal(nets, params, container: jnp.ndarray, num_secrets: int) -> jnp.ndarray:
  """Revealed secrets (B, K, H, W, C) from a container."""
  return jnp.stack([nets[f"reveal_{k}"].apply(params[f"reveal_{k}"], container)
                    for k in range(num_secrets)], axis=1)


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  channel.check(config)
  nets = networks(config)
  cover, secrets = _to_float(batch)
  keys = dict(zip(sorted(nets), jax.random.split(rng, len(nets) + 1)[1:]))
  params = {}
  prepared = []
  for k in range(config.model.num_secrets):
    params[f"prep_{k}"] = nets[f"prep_{k}"].init(keys[f"prep_{k}"], secrets[:, k])
    prepared.append(nets[f"prep_{k}"].apply(params[f"prep_{k}"], secrets[:, k]))
  params["hide"] = nets["hide"].init(keys["hide"], cover, prepared)
  for k in range(config.model.num_secrets):
    params[f"reveal_{k}"] = nets[f"reveal_{k}"].init(keys[f"reveal_{k}"], cover)
  if adversarial(config):
    params["adversary"] = nets["adversary"].init(keys["adversary"], cover * 255.0)
  txs = optimizers(config)
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "opt_state": {name: tx.init(params[name]) for name, tx in txs.items()},
      "rng": jax.random.key_data(jax.random.fold_in(rng, 1)),
  }


def beta_at(loss_cfg: ml_collections.ConfigDict, step: jnp.ndarray) -> jnp.ndarray:
  """β, optionally decayed linearly from `beta_start` over `beta_warmup_steps` [inf: not in the paper]."""
  if not loss_cfg.get("beta_warmup_steps"):
    return jnp.asarray(loss_cfg.beta, jnp.float32)
  frac = jnp.clip(step / loss_cfg.beta_warmup_steps, 0.0, 1.0)
  return loss_cfg.beta_start + frac * (loss_cfg.beta - loss_cfg.beta_start)


def loss_fn(config, params, batch, rng, beta, step=0):
  nets = networks(config)
  cover, secrets = _to_float(batch)
  container = hide(nets, params, cover, secrets)
  received = container
  if channel.enabled(config):   # (Without it, `rng` is used as before: the same noise, the same demo numbers.)
    rng, r_channel = jax.random.split(rng)
    received = channel.apply(config, container, cover, r_channel, step)
  received = received + config.loss.noise_std * jax.random.normal(rng, container.shape)
  revealed = reveal(nets, params, received, secrets.shape[1])
  cover_mse = losses.mse(cover, container)
  secret_mse = jnp.mean(jnp.square(secrets - revealed), axis=(0, 2, 3, 4))  # (K,)
  loss = cover_mse + beta * jnp.sum(secret_mse)
  aux = {}
  if adversarial(config):
    loss, aux = _with_adversary(config, nets, params, cover, container, loss)
  return loss, {"loss": loss, "cover_mse": cover_mse, "secret_mse": jnp.mean(secret_mse), **aux}


def _with_adversary(config, nets, params, cover, container, hider_loss):
  """[inf] SteganoGAN's critic / HiDDeN's adversary with a steganalyser: the hider's loss gains
  `loss.adversary` × −log P(cover | its 8-bit container) under the detector's current (frozen) parameters; the
  detector (XuNet with GroupNorm) learns cover vs container (binary cross-entropy) on stop_gradient(container),
  in the same gradient: each network gets exactly its own objective."""
  game = losses.steganalyser_game(nets["adversary"].apply, params["adversary"], cover, container)
  loss = hider_loss + config.loss.adversary * game["fool"] + game["detector"]
  return loss, {"adversary_fool": game["fool"], "adversary_loss": game["detector"],
                "adversary_accuracy": game["accuracy"]}


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  beta = beta_at(config.loss, state["step"])
  grads, m = optim.microbatch_grads(
      lambda p, b, r: loss_fn(config, p, b, r, beta, state["step"]), state["params"], batch, rng,
      config.microbatches)
  params, opt_state = optim.apply_updates(optimizers(config), state["params"], state["opt_state"], grads)
  m = dict(m, beta=beta, cover_psnr=-10.0 * jnp.log10(m["cover_mse"]),
           secret_psnr=-10.0 * jnp.log10(m["secret_mse"]))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-image metrics on the 8-bit container, and the images for the sample grid."""
  nets = networks(config)
  cover, secrets = _to_float(batch)
  container = metrics.quantize_8bit(hide(nets, state["params"], cover, secrets))
  revealed = metrics.quantize_8bit(reveal(nets, state["params"], container, secrets.shape[1]))
  out = {
      "container_psnr": metrics.psnr(cover, container),
      "container_ssim": metrics.ssim(cover, container),
      "container_apd": metrics.apd(cover, container),
      "container_psnr_y": metrics.psnr(metrics.rgb_to_y(cover), metrics.rgb_to_y(container))
                          if cover.shape[-1] == 3 else metrics.psnr(cover, container),
  }
  per_secret = {
      "secret_psnr": [metrics.psnr(secrets[:, k], revealed[:, k]) for k in range(secrets.shape[1])],
      "secret_ssim": [metrics.ssim(secrets[:, k], revealed[:, k]) for k in range(secrets.shape[1])],
      "secret_apd": [metrics.apd(secrets[:, k], revealed[:, k]) for k in range(secrets.shape[1])],
  }
  for name, values in per_secret.items():
    out[name] = jnp.mean(jnp.stack(values), axis=0)
    if len(values) > 1:
      out.update({f"{name}_{k}": v for k, v in enumerate(values)})
  images = {"cover": cover, "container": container}
  for k in range(secrets.shape[1]):
    images[f"secret_{k}"], images[f"revealed_{k}"] = secrets[:, k], revealed[:, k]
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  cols = [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0))]
  for k in range(config.model.num_secrets):
    cols += [(f"secret {k}", images[f"secret_{k}"]), (f"revealed {k}", images[f"revealed_{k}"])]
  return cols


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  """Zeros shaped like a batch: enough to derive the state's shapes without reading any dataset."""
  size = size or config.data.eval_size
  c = config.data.channels
  return {"cover": jnp.zeros((batch_size, size, size, c), jnp.uint8),
          "secret": jnp.zeros((batch_size, config.model.num_secrets, size, size, c), jnp.uint8)}


def size_multiple(config: ml_collections.ConfigDict) -> int:
  """Image height and width must be multiples of this."""
  return config.model.s2d if config.model.arch == "fast" else 1


# --- ImageHider: what the CLI, the security report and the attacks use ---------------------------------------

def num_secrets(config: ml_collections.ConfigDict) -> int:
  return config.model.num_secrets


@common.per_config
def image_functions(config: ml_collections.ConfigDict) -> tasks.ImageFunctions:
  """Jitted batched hide/reveal on [0, 1] floats (no key: Deep Steganography is unkeyed)."""
  nets = networks(config)
  k = config.model.num_secrets
  return tasks.ImageFunctions(hide=jax.jit(lambda p, c, s, key: hide(nets, p, c, s)),
                              reveal=jax.jit(lambda p, x, key: reveal(nets, p, x, k)))
