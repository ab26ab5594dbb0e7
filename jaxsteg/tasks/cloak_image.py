"""ImageCloak's image variant (Gnawali et al., 2026): Baluja's networks on ImageNet-normalised 224×224 images.

Images are letterboxed to 224×224 (`data.crop = 'letterbox'`), normalised with the ImageNet mean and std
before the networks see them, and the container is de-normalised back to pixels (then rounded to 8 bits at
evaluation). Loss [src: spec §D]:
  MSE(C, C') + β·MSE(S, S') + w·(‖φ(C) − φ(C')‖² + ‖φ(S) − φ(S')‖²),  β = 0.75,
with the MSEs on the normalised tensors the networks see [inf] and φ = VGG16 block3_conv3 (mean squared
feature difference [inf]). The VGG weights load from a user file (`loss.vgg_weights`, format in
`jaxsteg/models/vgg.py`); they are constants held in the state (`state['vgg']`), never trained. Without the
file the task refuses to start; `loss.vgg_weights = 'random'` (tests only) uses random weights.
Capabilities: Task, ImageHider (the `jaxsteg hide` / `reveal` commands and the security report work on it).
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
from jaxsteg.models import vgg
from jaxsteg.tasks import common
from jaxsteg.tasks import deepstego

MEAN = jnp.asarray(vgg.IMAGENET_MEAN)
STD = jnp.asarray(vgg.IMAGENET_STD)

networks = deepstego.networks
optimizers = deepstego.optimizers
grid_columns = deepstego.grid_columns
dummy_batch = deepstego.dummy_batch
eval_set = deepstego.eval_set
num_secrets = deepstego.num_secrets
size_multiple = deepstego.size_multiple


class MissingWeightsError(errors.ConfigError):
  """The config needs VGG16 weights that were not given."""


def check_weights(config: ml_collections.ConfigDict) -> None:
  path = config.loss.vgg_weights
  if path == "random":
    return
  if not path:
    raise MissingWeightsError(
        "this config needs VGG16 weights for its perceptual loss, and none can be downloaded here: give a "
        ".npz file with --config.loss.vgg_weights=/path/vgg16_block3.npz (format and how to convert "
        "torchvision or Keras weights: jaxsteg/models/vgg.py), or set --config.loss.perceptual_weight=0")
  try:
    vgg.load_params(path)
  except (OSError, ValueError) as e:
    raise errors.ConfigError(f"--config.loss.vgg_weights: {e}") from e


def train_dataset(config: ml_collections.ConfigDict):
  if config.loss.perceptual_weight:
    check_weights(config)   # Before any data is read: fail at once with a clear message.
  return deepstego.train_dataset(config)


def _vgg_params(config, rng):
  if not config.loss.perceptual_weight:
    return {}
  if config.loss.vgg_weights == "random":
    return vgg.random_params(rng)
  check_weights(config)
  return jax.tree.map(jnp.asarray, vgg.load_params(config.loss.vgg_weights))


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  state = deepstego.init_state(config, rng, batch)
  state["vgg"] = _vgg_params(config, jax.random.fold_in(rng, 7))
  return state


def normalize(x):
  return (x - MEAN) / STD


def denormalize(x):
  return x * STD + MEAN


def hide(nets, params, cover, secrets):
  """Pixel-space container [0, 1]-ish of pixel-space cover (B,H,W,3) and secrets (B,K,H,W,3)."""
  return denormalize(deepstego.hide(nets, params, normalize(cover), normalize(secrets)))


def reveal(nets, params, container, num_secrets):
  return denormalize(deepstego.reveal(nets, params, normalize(container), num_secrets))


def _perceptual(config, vgg_params, a, b):
  phi = vgg.VGG16Block3(config.loss.vgg_preprocess)
  return jnp.mean(jnp.square(phi.apply(vgg_params, a) - phi.apply(vgg_params, b)))


def loss_fn(config, params, vgg_params, batch, rng):
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  secrets = batch["secret"].astype(jnp.float32) / 255.0
  container = hide(nets, params, cover, secrets)
  received = container + config.loss.noise_std * jax.random.normal(rng, container.shape)
  revealed = reveal(nets, params, received, secrets.shape[1])
  cover_mse = losses.mse(normalize(cover), normalize(container))
  secret_mse = jnp.mean(jnp.square(normalize(secrets) - normalize(revealed)))
  loss = cover_mse + config.loss.beta * secret_mse
  out = {"cover_mse": cover_mse, "secret_mse": secret_mse}
  if config.loss.perceptual_weight:
    k = secrets.shape[1]
    flat = lambda x: x.reshape((-1,) + x.shape[2:])  # pylint: disable=unnecessary-lambda-assignment
    perceptual = (_perceptual(config, vgg_params, cover, container)
                  + _perceptual(config, vgg_params, flat(secrets), flat(revealed)) * k)
    loss += config.loss.perceptual_weight * perceptual
    out["perceptual"] = perceptual
  out["loss"] = loss
  return loss, out


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, m = optim.microbatch_grads(
      lambda p, b, r: loss_fn(config, p, state["vgg"], b, r), state["params"], batch, rng, config.microbatches)
  params, opt_state = optim.apply_updates(optimizers(config), state["params"], state["opt_state"], grads)
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-image metrics on the 8-bit pixel container; the secret revealed from it, rounded to 8 bits."""
  nets = networks(config)
  cover = batch["cover"].astype(jnp.float32) / 255.0
  secrets = batch["secret"].astype(jnp.float32) / 255.0
  container = metrics.quantize_8bit(hide(nets, state["params"], cover, secrets))
  revealed = metrics.quantize_8bit(reveal(nets, state["params"], container, secrets.shape[1]))
  out = {"container_psnr": metrics.psnr(cover, container), "container_ssim": metrics.ssim(cover, container),
         "container_apd": metrics.apd(cover, container),
         "secret_psnr": jnp.mean(jnp.stack([metrics.psnr(secrets[:, k], revealed[:, k])
                                            for k in range(secrets.shape[1])]), axis=0),
         "secret_ssim": jnp.mean(jnp.stack([metrics.ssim(secrets[:, k], revealed[:, k])
                                            for k in range(secrets.shape[1])]), axis=0)}
  images = {"cover": cover, "container": container}
  for k in range(secrets.shape[1]):
    images[f"secret_{k}"], images[f"revealed_{k}"] = secrets[:, k], revealed[:, k]
  return out, images


@common.per_config
def image_functions(config: ml_collections.ConfigDict) -> tasks.ImageFunctions:
  """Jitted batched hide/reveal on pixel-space [0, 1] floats (normalised inside); no key."""
  nets = networks(config)
  k = config.model.num_secrets
  return tasks.ImageFunctions(hide=jax.jit(lambda p, c, s, key: hide(nets, p, c, s)),
                              reveal=jax.jit(lambda p, x, key: reveal(nets, p, x, k)))
