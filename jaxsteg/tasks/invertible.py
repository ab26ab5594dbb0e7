"""Invertible hiding task, HiNet-class (methods spec §F): one network hides (forward) and reveals (inverse).

Hide: (y1, r) = f(DWT(cover), DWT(secret)); container = IWT(y1); the other half r is discarded.
Reveal: (·, s') = f⁻¹(DWT(container), z); secret = IWT(s'), with z ~ N(0, I) (HiNet) or z = 0
(`model.reveal_z`). In training z is drawn afresh each step; at use (evaluation, `jaxsteg hide`/`reveal`, the
security report, attacks) it is one fixed draw from `model.z_seed`, so revealing is deterministic.

Losses, each a mean [inf: HiNet sums them, which ties its weights to the image size]:
  guide            ‖C − C'‖²              (container vs cover)
  reconstruction   ‖S − S'‖²              (revealed vs secret)
  low-frequency    ‖LL(C) − LL(C')‖²      (Haar LL bands)
weighted by `loss.guide_weight`, `loss.reconstruction_weight`, `loss.low_freq_weight`. The revealer sees the
container as its 8-bit PNG holds it (`loss.rounding`): 'ste' (rounded forward, identity gradient), 'pris'
(rounded forward, PRIS's gradient (π/2)|sin(π·255x)|, zero at the levels), or 'none' (the float container, as
HiNet trains); a `noise` block replaces that by the 8-bit container through differentiable distortions
(`jaxsteg.attacks.channel`). Held-out metrics: container and secret on 8-bit containers, and the secret revealed
from the float container too (`secret_psnr_float`; `rounding_gap_db` = float − 8-bit, the price of rounding that
HiNet's own test code never pays). Capabilities: Task, ImageHider (unkeyed, one secret, even image sides).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxsteg import errors
from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.attacks import channel
from jaxsteg.data import pipeline
from jaxsteg.models import invertible as models
from jaxsteg.tasks import common

NET = "hider"


def network(config: ml_collections.ConfigDict, zero_init: bool = True) -> models.InvertibleHider:
  return models.make_network(config.model, config.data.channels, zero_init)


def optimizers(config: ml_collections.ConfigDict):
  return {NET: optim.make_optimizer(config.optim, config.num_train_steps)}


def _check(config: ml_collections.ConfigDict) -> None:
  if config.model.num_secrets != 1:
    raise errors.ConfigError(f"the invertible hider hides one secret per container; got model.num_secrets="
                             f"{config.model.num_secrets}")
  if config.model.reveal_z not in ("gaussian", "zero"):
    raise errors.ConfigError(f"model.reveal_z must be 'gaussian' or 'zero', got {config.model.reveal_z!r}")
  if config.loss.rounding not in ("ste", "pris", "none"):
    raise errors.ConfigError(f"loss.rounding must be 'ste', 'pris' or 'none', got {config.loss.rounding!r}")


def train_dataset(config: ml_collections.ConfigDict):
  _check(config)
  return pipeline.make_train_dataset(config.data, num_secrets=1, global_batch=config.batch_size, seed=config.seed)


def eval_set(config: ml_collections.ConfigDict):
  return pipeline.make_eval_set(config.data, num_secrets=1)


def _to_float(batch: dict) -> tuple[jnp.ndarray, jnp.ndarray]:
  """uint8 batch -> cover (B, H, W, C) and secret (B, H, W, C) in [0, 1]."""
  return batch["cover"].astype(jnp.float32) / 255.0, batch["secret"][:, 0].astype(jnp.float32) / 255.0


def hide(net, params, cover: jnp.ndarray, secret: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """(container (B, H, W, C) float, not yet rounded; its Haar bands y1; the discarded bands r)."""
  y1, r = net.apply(params, models.dwt(cover), models.dwt(secret))
  return models.iwt(y1), y1, r


def reveal(net, params, container: jnp.ndarray, z: jnp.ndarray) -> jnp.ndarray:
  """The secret (B, H, W, C) revealed from a container, with `z` (Haar bands) in place of the discarded half."""
  _, s = net.apply(params, models.dwt(container), z, method=models.InvertibleHider.inverse)
  return models.iwt(s)


def noise(config: ml_collections.ConfigDict, rng: jax.Array | None, shape) -> jnp.ndarray:
  """z for the inverse: zeros, or N(0, I) from `rng` (None: the fixed draw of `model.z_seed`, used at test)."""
  if config.model.reveal_z == "zero":
    return jnp.zeros(shape, jnp.float32)
  key = jax.random.key(config.model.z_seed) if rng is None else rng
  return jax.random.normal(key, shape, jnp.float32)


def _band_shape(x: jnp.ndarray) -> tuple[int, ...]:
  b, h, w, c = x.shape
  return (b, h // 2, w // 2, 4 * c)


def pris_round_8bit(x: jnp.ndarray) -> jnp.ndarray:
  """The 8-bit rounded image forward; backward PRIS's cos-approximate gradient of rounding, (π/2)|sin(π·255x)|
  (1 half-way between levels, 0 at them: round_diff of yanghangAI/PRIS)."""
  slope = 0.5 * jnp.pi * jnp.abs(jnp.sin(jnp.pi * 255.0 * x))
  return jax.lax.stop_gradient(metrics.quantize_8bit(x)) + (x - jax.lax.stop_gradient(x)) * jax.lax.stop_gradient(
      slope)


def received(config: ml_collections.ConfigDict, container: jnp.ndarray) -> jnp.ndarray:
  """What the revealer sees in training (`loss.rounding`)."""
  if config.loss.rounding == "ste":
    return metrics.straight_through_8bit(container)
  if config.loss.rounding == "pris":
    return pris_round_8bit(container)
  return container


def loss_weights(config: ml_collections.ConfigDict, step: jnp.ndarray) -> dict[str, jnp.ndarray]:
  """The loss weights at `step` (constant; a function of the step so that schedules and tests can hook in)."""
  del step
  return {"guide": jnp.float32(config.loss.guide_weight),
          "reconstruction": jnp.float32(config.loss.reconstruction_weight),
          "low_freq": jnp.float32(config.loss.low_freq_weight)}


def loss_fn(config, params, batch, rng, weights, step=0):
  net = network(config)
  cover, secret = _to_float(batch)
  container, y1, _ = hide(net, params, cover, secret)
  seen = received(config, container)
  if channel.enabled(config):   # The 8-bit container through differentiable distortions (`noise` block).
    seen = channel.apply(config, container, cover, jax.random.fold_in(rng, 1), step)
  revealed = reveal(net, params, seen, noise(config, rng, _band_shape(cover)))
  c = cover.shape[-1]
  guide = losses.mse(cover, container)
  rec = losses.mse(secret, revealed)
  low = losses.mse(models.dwt(cover)[..., :c], y1[..., :c])
  loss = weights["guide"] * guide + weights["reconstruction"] * rec + weights["low_freq"] * low
  return loss, {"loss": loss, "guide_mse": guide, "reconstruction_mse": rec, "low_freq_mse": low}


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  _check(config)
  channel.check(config)
  cover, secret = _to_float(batch)
  params = {NET: network(config).init(jax.random.fold_in(rng, 0), models.dwt(cover), models.dwt(secret))}
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "opt_state": {name: tx.init(params[name]) for name, tx in optimizers(config).items()},
      "rng": jax.random.key_data(jax.random.fold_in(rng, 1)),
  }


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  weights = loss_weights(config, state["step"])
  grads, m = optim.microbatch_grads(
      lambda p, b, r: loss_fn(config, p[NET], b, r, weights, state["step"]), state["params"], batch, rng,
      config.microbatches)
  params, opt_state = optim.apply_updates(optimizers(config), state["params"], state["opt_state"], grads)
  m = dict(m, container_psnr=-10.0 * jnp.log10(m["guide_mse"]),
           secret_psnr=-10.0 * jnp.log10(m["reconstruction_mse"]))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def _y_psnr(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  if a.shape[-1] != 3:
    return metrics.psnr(a, b)
  return metrics.psnr(metrics.rgb_to_y(a), metrics.rgb_to_y(b))


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-image metrics on the 8-bit container (and the secret from the float one), and the grid's images."""
  net = network(config)
  params = state["params"][NET]
  cover, secret = _to_float(batch)
  z = noise(config, None, _band_shape(cover))
  container_float, _, _ = hide(net, params, cover, secret)
  container = metrics.quantize_8bit(container_float)
  revealed = metrics.quantize_8bit(reveal(net, params, container, z))
  revealed_float = metrics.quantize_8bit(reveal(net, params, container_float, z))
  out = {
      "container_psnr": metrics.psnr(cover, container),
      "container_ssim": metrics.ssim(cover, container),
      "container_apd": metrics.apd(cover, container),
      "container_psnr_y": _y_psnr(cover, container),
      "secret_psnr": metrics.psnr(secret, revealed),
      "secret_ssim": metrics.ssim(secret, revealed),
      "secret_apd": metrics.apd(secret, revealed),
      "secret_psnr_y": _y_psnr(secret, revealed),
      "secret_psnr_float": metrics.psnr(secret, revealed_float),
  }
  out["rounding_gap_db"] = out["secret_psnr_float"] - out["secret_psnr"]
  images = {"cover": cover, "container": container, "secret_0": secret, "revealed_0": revealed}
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  del config
  return [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0)),
          ("secret", images["secret_0"]), ("revealed", images["revealed_0"])]


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  size = size or config.data.eval_size
  c = config.data.channels
  return {"cover": jnp.zeros((batch_size, size, size, c), jnp.uint8),
          "secret": jnp.zeros((batch_size, 1, size, size, c), jnp.uint8)}


# --- ImageHider: what the CLI, the security report and the attacks use ---------------------------------------

def num_secrets(config: ml_collections.ConfigDict) -> int:
  del config
  return 1


def size_multiple(config: ml_collections.ConfigDict) -> int:
  """The Haar transform halves each side."""
  del config
  return 2


@common.per_config
def image_functions(config: ml_collections.ConfigDict) -> tasks.ImageFunctions:
  """Jitted batched hide/reveal on [0, 1] floats (no key: the model is unkeyed; z is the fixed test draw)."""
  net = network(config)

  def hide_fn(params, cover, secrets, key):
    del key
    return hide(net, params[NET], cover, secrets[:, 0])[0]

  def reveal_fn(params, container, key):
    del key
    return reveal(net, params[NET], container, noise(config, None, _band_shape(container)))[:, None]

  return tasks.ImageFunctions(hide=jax.jit(hide_fn), reveal=jax.jit(reveal_fn))
