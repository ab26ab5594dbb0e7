"""KeyMixer task (Iqbal et al. 2026, methods spec §B): joint keyed mixing + hiding, dual loss, two key modes.

  S_mix = Mixer(S, K); C' = Encoder(C, S_mix); S' = UnMixer(Decoder(C' + n), K)
  L = MSE(C, C') + λ·MSE(S, S') [+ μ·wrong-key term, passphrase mode]

Key modes (`config.model.key_mode`):
- 'trainable' (the paper): K is a learned parameter (`params['key']`); whoever holds the weights holds the key.
- 'passphrase' [inf]: K is an input. At use, K = keys.key_from_config(passphrase); in training every example
  gets a random K of the same distribution, and for a random fraction of the examples (`loss.wrong_key_fraction`,
  the spec's "half the batches", per example here [inf] for a smoother signal) an independent wrong key K̃ adds
  max(0, m − MSE(S, UnMixer(S_mix', K̃))) + γ·corr(S, UnMixer(S_mix', K̃))² [inf: the correlation term stops
  the cheap escape of revealing an inverted secret, which has a large MSE but shows the image]. That term
  reaches only the unmixer (S_mix' is held fixed), so it cannot trade away the right-key recovery in the decoder.
Containers get Gaussian noise in training (as in Deep Steganography [inf here]; a `noise` block adds
differentiable distortions of the 8-bit container first, `jaxsteg.attacks.channel`) and are rounded to 8 bits at
evaluation; the configs add the `security` evaluator (`jaxsteg.evaluators.security`). Capabilities: Task,
ImageHider, Keyed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsteg import errors
from jaxsteg import keys as keylib
from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.attacks import channel
from jaxsteg.data import pipeline
from jaxsteg.models import keymixer as models
from jaxsteg.tasks import common


def networks(config: ml_collections.ConfigDict):
  return models.make_networks(config.model, config.data.channels)


def key_shape(config: ml_collections.ConfigDict) -> tuple[int, int, int]:
  return models.key_shape(config.model)


def needs_passphrase(config: ml_collections.ConfigDict) -> bool:
  return config.model.key_mode == "passphrase"


def _check_mode(config) -> None:
  if config.model.key_mode not in ("trainable", "passphrase"):
    raise errors.ConfigError(f"model.key_mode must be 'trainable' or 'passphrase', got {config.model.key_mode!r}")


def optimizers(config: ml_collections.ConfigDict):
  tx = optim.make_optimizer(config.optim, config.num_train_steps)
  names = list(networks(config)) + (["key"] if config.model.key_mode == "trainable" else [])
  return {name: tx for name in names}


def train_dataset(config: ml_collections.ConfigDict):
  return pipeline.make_train_dataset(config.data, num_secrets=1, global_batch=config.batch_size, seed=config.seed)


def eval_set(config: ml_collections.ConfigDict):
  return pipeline.make_eval_set(config.data, num_secrets=1)


def _to_float(batch: dict) -> tuple[jnp.ndarray, jnp.ndarray]:
  """uint8 batch -> cover (B, H, W, C) and the one secret (B, H, W, C) in [0, 1]."""
  return batch["cover"].astype(jnp.float32) / 255.0, batch["secret"][:, 0].astype(jnp.float32) / 255.0


def mix(nets, params, secret, key):
  return nets["mixer"].apply(params["mixer"], secret, key)


def hide(nets, params, cover, secret, key):
  """(container (float, not yet rounded), mixed secret) for cover and secret (B, H, W, C), key (..., ks, ks, kc)."""
  mixed = mix(nets, params, secret, key)
  return nets["encoder"].apply(params["encoder"], cover, mixed), mixed


def reveal(nets, params, container, key):
  """Revealed secret (B, H, W, C) from a container with key `key`."""
  return nets["unmixer"].apply(params["unmixer"], nets["decoder"].apply(params["decoder"], container), key)


def model_key(config, params, rng: jax.Array, batch: int) -> jnp.ndarray:
  """The right key: the learned one (trainable) or `batch` random keys (passphrase mode, training/eval)."""
  if config.model.key_mode == "trainable":
    return params["key"]
  return keylib.random_keys(rng, batch, key_shape(config), config.model.key_std)


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  _check_mode(config)
  channel.check(config)
  nets = networks(config)
  cover, secret = _to_float(batch)
  r = dict(zip(["mixer", "encoder", "decoder", "unmixer", "key"], jax.random.split(rng, 6)[1:]))
  key = keylib.random_keys(r["key"], 1, key_shape(config), config.model.key_std)[0]
  params = {"mixer": nets["mixer"].init(r["mixer"], secret, key)}
  mixed = nets["mixer"].apply(params["mixer"], secret, key)
  params["encoder"] = nets["encoder"].init(r["encoder"], cover, mixed)
  params["decoder"] = nets["decoder"].init(r["decoder"], cover)
  params["unmixer"] = nets["unmixer"].init(r["unmixer"], secret, key)
  if config.model.get("key_init") == "signflip":
    params = _signflip_init(config, params)
  if config.model.key_mode == "trainable":
    params["key"] = key
  txs = optimizers(config)
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "opt_state": {name: tx.init(params[name]) for name, tx in txs.items()},
      "rng": jax.random.key_data(jax.random.fold_in(rng, 1)),
  }


def _signflip_init(config, params: dict) -> dict:
  """[inf] Starts mixer and unmixer at S_mix = σ(g·(S − ½)·tanh K): a key-dependent sign flip around grey.

  Sets the linear skip's weights from the (x − ½)·tanh K features to g·I (other skip weights 0) and zeroes the
  conv body's output layer, so a wrong key reveals noise from step 0 and training starts from a transform the
  unmixer can invert. Needs `model.key_product` and the 'fast' architecture (which has the skip).
  """
  if config.model.arch != "fast" or not config.model.key_product:
    raise errors.ConfigError("model.key_init='signflip' needs arch='fast' and key_product=True")
  gain = config.model.get("signflip_gain", 4.0)
  out = dict(params)
  for name in ("mixer", "unmixer"):
    p = jax.tree.map(lambda x: x, params[name])
    kernel = p["params"]["skip"]["kernel"]          # (1, 1, c + kc + c, c)
    c = kernel.shape[-1]
    eye = gain * jnp.eye(c, dtype=kernel.dtype)
    new = jnp.zeros_like(kernel).at[0, 0, kernel.shape[2] - c:, :].set(eye)
    p["params"]["skip"]["kernel"] = new
    p["params"]["skip"]["bias"] = jnp.zeros_like(p["params"]["skip"]["bias"])
    p["params"]["out"]["kernel"] = jnp.zeros_like(p["params"]["out"]["kernel"])
    out[name] = p
  return out


def pearson_per_image(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """Pearson correlation of all pixel values of a and b, per image (B,)."""
  axes = tuple(range(1, a.ndim))
  a = a - jnp.mean(a, axis=axes, keepdims=True)
  b = b - jnp.mean(b, axis=axes, keepdims=True)
  return jnp.sum(a * b, axis=axes) / jnp.sqrt(jnp.sum(a * a, axis=axes) * jnp.sum(b * b, axis=axes) + 1e-8)


def loss_fn(config, params, batch, rng, step=0):
  nets = networks(config)
  cover, secret = _to_float(batch)
  b = cover.shape[0]
  r_key, r_noise, r_wrong, r_mask = jax.random.split(rng, 4)
  key = model_key(config, params, r_key, b)
  container, mixed = hide(nets, params, cover, secret, key)
  received = container
  if channel.enabled(config):   # The 8-bit container through differentiable distortions (`noise` block).
    received = channel.apply(config, container, cover, jax.random.fold_in(r_noise, 1), step)
  received = received + config.loss.noise_std * jax.random.normal(r_noise, container.shape)
  mixed_rev = nets["decoder"].apply(params["decoder"], received)
  revealed = nets["unmixer"].apply(params["unmixer"], mixed_rev, key)
  cover_mse = losses.mse(cover, container)
  secret_mse = losses.mse(secret, revealed)
  loss = cover_mse + config.loss.secret_weight * secret_mse
  m = {"cover_mse": cover_mse, "secret_mse": secret_mse}
  if config.loss.wrong_key_weight:
    wrong = keylib.random_keys(r_wrong, b, key_shape(config), config.model.key_std)
    revealed_wrong = nets["unmixer"].apply(params["unmixer"], jax.lax.stop_gradient(mixed_rev), wrong)
    wrong_mse = metrics.mse_per_image(secret, revealed_wrong)
    corr = pearson_per_image(secret, revealed_wrong)
    term = jax.nn.relu(config.loss.wrong_key_margin - wrong_mse) + config.loss.wrong_key_corr_weight * corr**2
    mask = jax.random.bernoulli(r_mask, config.loss.wrong_key_fraction, (b,)).astype(jnp.float32)
    wrong_term = jnp.sum(mask * term) / jnp.maximum(jnp.sum(mask), 1.0)
    loss = loss + config.loss.wrong_key_weight * wrong_term
    m.update(wrong_key_term=wrong_term, wrong_key_mse=jnp.mean(wrong_mse), wrong_key_corr=jnp.mean(corr))
  if config.loss.mix_corr_weight:  # [inf] optional: decorrelate the mixed secret from the secret.
    loss = loss + config.loss.mix_corr_weight * jnp.mean(pearson_per_image(secret, mixed) ** 2)
  m["loss"] = loss
  return loss, m


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, m = optim.microbatch_grads(lambda p, b, r: loss_fn(config, p, b, r, state["step"]), state["params"],
                                    batch, rng, config.microbatches)
  params, opt_state = optim.apply_updates(optimizers(config), state["params"], state["opt_state"], grads)
  m = dict(m, cover_psnr=-10.0 * jnp.log10(m["cover_mse"]), secret_psnr=-10.0 * jnp.log10(m["secret_mse"]))
  return dict(state, step=state["step"] + 1, params=params, opt_state=opt_state), m


def _eval_keys(config, params, batch: int):
  """Right and wrong keys for held-out evaluation: fixed draws (the same for every checkpoint)."""
  base = jax.random.key(config.seed + 7919)
  right = model_key(config, params, jax.random.fold_in(base, 0), batch)
  wrong = keylib.random_keys(jax.random.fold_in(base, 1), batch, key_shape(config), config.model.key_std)
  return right, wrong


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-image metrics on the 8-bit container (right key and one wrong key per image), and grid images."""
  nets = networks(config)
  params = state["params"]
  cover, secret = _to_float(batch)
  right, wrong = _eval_keys(config, params, cover.shape[0])
  container, mixed = hide(nets, params, cover, secret, right)
  container = metrics.quantize_8bit(container)
  revealed = metrics.quantize_8bit(reveal(nets, params, container, right))
  revealed_wrong = metrics.quantize_8bit(reveal(nets, params, container, wrong))
  out = {
      "container_psnr": metrics.psnr(cover, container),
      "container_ssim": metrics.ssim(cover, container),
      "container_apd": metrics.apd(cover, container),
      "container_psnr_y": metrics.psnr(metrics.rgb_to_y(cover), metrics.rgb_to_y(container)),
      "secret_psnr": metrics.psnr(secret, revealed),
      "secret_ssim": metrics.ssim(secret, revealed),
      "secret_apd": metrics.apd(secret, revealed),
      "wrong_key_psnr": metrics.psnr(secret, revealed_wrong),
      "wrong_key_ssim": metrics.ssim(secret, revealed_wrong),
  }
  images = {"cover": cover, "container": container, "secret": secret, "mixed": metrics.quantize_8bit(mixed),
            "revealed": revealed, "revealed_wrong": revealed_wrong}
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  del config
  return [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0)),
          ("secret", images["secret"]), ("mixed secret", images["mixed"]), ("revealed", images["revealed"]),
          ("wrong key", images["revealed_wrong"])]


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  size = size or config.data.eval_size
  c = config.data.channels
  return {"cover": jnp.zeros((batch_size, size, size, c), jnp.uint8),
          "secret": jnp.zeros((batch_size, 1, size, size, c), jnp.uint8)}


def size_multiple(config: ml_collections.ConfigDict) -> int:
  return config.model.s2d if config.model.arch == "fast" else 1


# --- Keys for users and for the security analysis ------------------------------------------------------------

def key_for_use(config, params, passphrase: str | None) -> jnp.ndarray:
  """The key tensor a user's hide/reveal runs with: derived from the passphrase, or the learned one."""
  if needs_passphrase(config):
    if not passphrase:
      raise errors.PassphraseError("this model needs a passphrase (it was trained in passphrase key mode)")
    return keylib.key_from_config(passphrase, config.kdf, key_shape(config), config.model.key_std)
  if passphrase:
    raise errors.PassphraseError("this model's key is part of its weights (trainable key mode); it takes no "
                                 "passphrase")
  return params["key"]


def analysis_keys(config, params, passphrase: str | None, num_wrong: int, seed: int = 0) -> dict:
  """Keys for the security analysis: the right key, a one-bit-flipped key, and `num_wrong` wrong keys.

  Passphrase mode: the right key is derived from `passphrase` (or a fixed analysis passphrase); the flipped
  key flips bit 0 (the least significant bit of byte 0) of the 32-byte scrypt output. Trainable mode: the
  flipped key flips the sign bit (bit 31 of the float32) of element [0, 0, 0] of the learned key, i.e. one of
  its 32·ks²·kc bits; wrong keys are fresh draws with the initial distribution (std `model.key_std`).
  """
  shape = key_shape(config)
  if needs_passphrase(config):
    pw = passphrase or "jaxsteg security analysis"
    derive = lambda text: keylib.derive_bytes(text, config.kdf.salt, n=config.kdf.scrypt_n,  # pylint: disable=unnecessary-lambda-assignment
                                              r=config.kdf.scrypt_r, p=config.kdf.scrypt_p)
    kdf = derive(pw)
    right = keylib.key_tensor_from_bytes(kdf, shape, config.model.key_std)
    wrong = jnp.stack([keylib.key_tensor_from_bytes(derive(f"{pw} wrong {seed}-{i}"), shape, config.model.key_std)
                       for i in range(num_wrong)])
    wrong_note = "keys derived from wrong passphrases with the model's KDF"
    flipped = keylib.key_tensor_from_bytes(keylib.flip_bit(kdf, 0), shape, config.model.key_std)
    note = "bit 0 of the 32-byte scrypt output flipped"
    source = "given passphrase" if passphrase else "built-in analysis passphrase"
  else:
    right = jnp.asarray(params["key"])
    bits = np.asarray(right, np.float32).copy().view(np.uint32)
    bits[0, 0, 0] ^= np.uint32(1 << 31)
    flipped = jnp.asarray(bits.view(np.float32))
    note = "sign bit (bit 31) of the learned key's float32 element [0, 0, 0] flipped"
    source = "learned key parameter"
    wrong = keylib.random_keys(jax.random.key(seed + 104729), num_wrong, shape, config.model.key_std)
    wrong_note = "random key tensors with the initial key distribution"
  return {"right": right, "flipped": flipped, "wrong": wrong, "flip_note": note, "key_source": source,
          "wrong_note": wrong_note}


@common.per_config
def mix_function(config):
  """Jitted (params, secret (B, H, W, C), key) -> the mixed secret (what the encoder hides)."""
  nets = networks(config)
  return jax.jit(lambda p, s, k: mix(nets, p, s, k))


# --- ImageHider: what the CLI, the security report and the attacks use ---------------------------------------

def num_secrets(config: ml_collections.ConfigDict) -> int:
  del config
  return 1


@common.per_config
def image_functions(config: ml_collections.ConfigDict) -> tasks.ImageFunctions:
  """Jitted batched hide/reveal on [0, 1] floats, secrets (B, 1, H, W, C); one unbatched key."""
  nets = networks(config)
  return tasks.ImageFunctions(hide=jax.jit(lambda p, c, s, k: hide(nets, p, c, s[:, 0], k)[0]),
                              reveal=jax.jit(lambda p, x, k: reveal(nets, p, x, k)[:, None]))
