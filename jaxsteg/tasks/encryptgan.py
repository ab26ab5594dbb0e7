"""EncryptGAN task (Zheng et al. 2019): a keyed CycleGAN that disguises a pasted message as a Y-domain image.

Alice pastes message m on cover x and sends the disguise F(x+m, K(y)) (K(y): public key image); Bob recovers
G(disguise, K(x)) ≈ x+m with the private key image K(x). Five networks, five Adam optimizers, one jitted step:
  generators F, G:  (1) LSGAN  + cycle (both directions, correct key)  + (2) key matching  + (3) information
                    loss on the message region + (4) security: with a wrong private key K(x') (probability
                    `wrong_key_prob` per example) only the adversarial loss and a term that keeps the message
                    region away from m; the correct-key terms are dropped for that example.
  D_X, D_Y:         LSGAN, ½ weight, fakes drawn from a 50-image history pool kept in the state.
  K:                X/Y domain classifier (cross-entropy); key images come from its layers 3, 5, 6. The
                    generators' losses do not train K [inf]: K's features are a fixed key/feature extractor.
Switchable [inf] variant `model.private_key_to_encoder`: F(x+m, K(y), K(x)) — Alice holds the cover, so she can
compute K(x); this gives the encoder a way to tie the message to the private key (used by the CPU demo).
Images are [-1, 1] inside the networks; metrics are on [0, 1] with 8-bit rounded disguises, decryptions and keys
(every image that would be a file). Evaluation: `eval_step` gives per-image message-region metrics with the right
key and with one other held-out example's key; the configs add the `key_sensitivity` evaluator (many wrong keys:
the paper's Security MSE, and the key-sensitivity curves) and `fid_lpips`. Capabilities: Task, DomainCipher.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import errors
from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg import tasks
from jaxsteg.data import domains
from jaxsteg.models import encryptgan as models
from jaxsteg.tasks import common

NETS = ("F", "G", "D_X", "D_Y", "K")


def networks(config: ml_collections.ConfigDict):
  return models.make_networks(config.model)


def optimizers(config: ml_collections.ConfigDict):
  """One Adam per network (2e-4, β1 0.5, constant then linear decay in the paper's configs)."""
  return {name: optim.make_optimizer(config.optim, config.num_train_steps) for name in NETS}


def train_dataset(config: ml_collections.ConfigDict):
  return domains.make_train_dataset(config.data, global_batch=config.batch_size, seed=config.seed)


def eval_set(config: ml_collections.ConfigDict):
  return domains.make_eval_set(config.data)


# ----------------------------------------------------------------------------------------------- helpers
to_signed = metrics.to_signed
to_unit = metrics.to_unit
quantize = metrics.quantize_8bit_signed


def keys_of(nets, params, images: jnp.ndarray) -> jnp.ndarray:
  """Key images (B, H, W, 3) in [-1, 1] of images (B, H, W, 3) in [-1, 1]."""
  _, feats = nets["K"].apply(params["K"], images)
  return models.key_image(feats, images.shape[1:3])


def encrypt(nets, params, pasted, public_key, private_key=None):
  """F(x+m, K(y)); with `model.private_key_to_encoder` [inf] F also sees K(x) (Alice holds x, hence K(x))."""
  key = public_key if private_key is None else jnp.concatenate([public_key, private_key], axis=-1)
  return nets["F"].apply(params["F"], pasted, key)


def _enc_private(config, private_key):
  return private_key if config.model.get("private_key_to_encoder") else None


def decrypt(nets, params, disguise, private_key):
  return nets["G"].apply(params["G"], disguise, private_key)


def _batch(batch: dict):
  return (to_signed(batch["x"]), to_signed(batch["y"]), to_signed(batch["pasted"]),
          batch["region"].astype(jnp.float32))


# ------------------------------------------------------------------------------------------------ the pool
def init_pool(config: ml_collections.ConfigDict) -> dict:
  s, n = config.data.image_size, config.model.pool_size
  return {"x": jnp.zeros((n, s, s, 3), jnp.float32), "y": jnp.zeros((n, s, s, 3), jnp.float32),
          "count_x": jnp.zeros((), jnp.int32), "count_y": jnp.zeros((), jnp.int32)}


def pool_query(images: jnp.ndarray, count: jnp.ndarray, new: jnp.ndarray, rng: jax.Array):
  """CycleGAN's ImagePool, functionally: returns (images shown to D, updated pool images, updated count).

  Image by image: while the pool is not full, store it and show it; once full, with probability ½ show a
  random stored image and store the new one in its place, else show the new one.
  """
  size = images.shape[0]
  if size == 0:
    return new, images, count
  rngs = jax.random.split(rng, new.shape[0])

  def body(i, carry):
    pool, n, out = carry
    img = new[i]
    r_swap, r_idx = jax.random.split(rngs[i])
    full = n >= size
    swap = full & jax.random.bernoulli(r_swap, 0.5)
    idx = jnp.where(full, jax.random.randint(r_idx, (), 0, size), jnp.minimum(n, size - 1))
    shown = jnp.where(swap, pool[idx], img)
    stored = jnp.where(full & ~swap, pool[idx], img)
    pool = pool.at[idx].set(stored)
    out = out.at[i].set(shown)
    return pool, jnp.minimum(n + 1, size), out

  pool, count, out = jax.lax.fori_loop(0, new.shape[0], body, (images, count, jnp.zeros_like(new)))
  return out, pool, count


# ------------------------------------------------------------------------------------------------ init
RNG_IMPL = "unsafe_rbg"   # XLA's RngBitGenerator: threefry took minutes to compile per network on our CPU.


def _fast_key(rng: jax.Array) -> jax.Array:
  """A key of RNG_IMPL derived from any key (its data words, repeated to the 4 words rbg keys hold)."""
  data = jax.random.key_data(rng).reshape(-1)
  return jax.random.wrap_key_data(jnp.tile(data, 4 // data.shape[0]), impl=RNG_IMPL)


def init_state(config: ml_collections.ConfigDict, rng: jax.Array, batch: dict) -> dict:
  nets = networks(config)
  x = to_signed(batch["x"])
  rng = _fast_key(rng)
  keys = dict(zip(NETS, jax.random.split(rng, len(NETS))))
  params = {"K": nets["K"].init(keys["K"], x)}
  key = jnp.zeros_like(x)
  f_key = jnp.concatenate([key, key], -1) if config.model.get("private_key_to_encoder") else key
  params["F"] = nets["F"].init(keys["F"], x, f_key)
  params["G"] = nets["G"].init(keys["G"], x, key)
  for name in ("D_X", "D_Y"):
    params[name] = nets[name].init(keys[name], x)
  txs = optimizers(config)
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "opt_state": {name: tx.init(params[name]) for name, tx in txs.items()},
      "rng": jax.random.key_data(jax.random.fold_in(rng, 1)),
      "pool": init_pool(config),
  }


# ------------------------------------------------------------------------------------------------ losses
def _per_example(v: jnp.ndarray) -> jnp.ndarray:
  return jnp.mean(v, axis=tuple(range(1, v.ndim)))


def _region_mean(v: jnp.ndarray, region: jnp.ndarray) -> jnp.ndarray:
  """Per-example mean of v (B, H, W, C) over the message region (0 where nothing was pasted)."""
  area = jnp.sum(region, axis=(1, 2, 3)) * v.shape[-1]
  return jnp.sum(v * region, axis=(1, 2, 3)) / jnp.maximum(area, 1.0)


def generator_loss(config, gen_params, params, x, y, pasted, region, wrong, rng):
  """Loss of F and G; `params` gives the fixed D_X, D_Y and K. wrong: (B,) 1.0 where the key is wrong."""
  nets = networks(config)
  lc = config.loss
  p = dict(params, **gen_params)
  r_noise, r_sec = jax.random.split(rng)
  _, feats_x = nets["K"].apply(params["K"], x)
  key_x = jax.lax.stop_gradient(models.key_image(feats_x, x.shape[1:3]))
  key_y = jax.lax.stop_gradient(keys_of(nets, params, y))
  key_wrong = jnp.roll(key_x, 1, axis=0)     # Another example's private key.
  w = wrong[:, None, None, None]
  private = jnp.where(w > 0, key_wrong, key_x)

  disguise = encrypt(nets, p, pasted, key_y, _enc_private(config, key_x))
  received = disguise + 2.0 * lc.disguise_noise_std * jax.random.normal(r_noise, disguise.shape)
  if lc.get("paired_wrong_key"):   # [inf] every example decoded with its key and with a wrong one.
    recon = decrypt(nets, p, received, key_x)
    recon_wrong = decrypt(nets, p, received, key_wrong)
    right, wrong = jnp.ones_like(wrong), jnp.ones_like(wrong)
  else:                            # [src] one decode per example, with a wrong key with probability p.
    recon = recon_wrong = decrypt(nets, p, received, private)
    right = 1.0 - wrong
  fake_x = decrypt(nets, p, y, key_x)
  back_y = encrypt(nets, p, fake_x, key_y, _enc_private(config, key_x))

  adv_f = jnp.mean(jnp.square(nets["D_Y"].apply(params["D_Y"], disguise) - 1.0))
  adv_g = jnp.mean(jnp.square(nets["D_X"].apply(params["D_X"], fake_x) - 1.0))
  adv_wrong = jnp.mean(wrong * _per_example(jnp.square(nets["D_X"].apply(params["D_X"], recon_wrong) - 1.0)))
  cycle = jnp.mean(right * _per_example(jnp.abs(recon - pasted))) + losses.l1(back_y, y)
  info = jnp.mean(right * _region_mean(jnp.abs(recon - pasted), region))
  _, feats_r = nets["K"].apply(params["K"], recon)
  key_match = sum(jnp.mean(right * _per_example(jnp.abs(feats_r[l - 1] - jax.lax.stop_gradient(feats_x[l - 1]))))
                  for l in models.KEY_LAYERS)
  has_msg = (jnp.sum(region, axis=(1, 2, 3)) > 0).astype(jnp.float32)
  if lc.security_mode == "hinge":   # [inf] wrong-key region MSE (on [0, 1]) must exceed the margin.
    mse01 = _region_mean(jnp.square(to_unit(recon_wrong) - to_unit(pasted)), region)
    sec = jax.nn.relu(lc.security_margin - mse01)
  elif lc.security_mode == "noise":  # [inf] pull the wrong-key message region toward fresh uniform noise.
    noise = jax.random.uniform(r_sec, recon.shape, minval=-1.0, maxval=1.0)
    sec = _region_mean(jnp.abs(recon_wrong - noise), region)
  else:
    raise errors.ConfigError(f"unknown loss.security_mode {lc.security_mode!r}: use hinge or noise")
  security = jnp.mean(wrong * has_msg * sec)
  gan = adv_f + adv_g + adv_wrong
  total = (lc.gan * gan + lc.cycle * cycle + lc.key_match * key_match + lc.info * info
           + lc.security * security)
  aux = {"disguise": disguise, "fake_x": fake_x,
         "m": {"loss": total, "gan_g": gan, "cycle": cycle, "key_match": key_match, "info": info,
               "security": security}}
  return total, aux


def discriminator_loss(config, disc_params, params, x, y, fake_x, fake_y):
  nets = networks(config)
  p = dict(params, **disc_params)
  d_y = losses.lsgan_discriminator(nets["D_Y"].apply(p["D_Y"], y), nets["D_Y"].apply(p["D_Y"], fake_y))
  d_x = losses.lsgan_discriminator(nets["D_X"].apply(p["D_X"], x), nets["D_X"].apply(p["D_X"], fake_x))
  return d_x + d_y, {"d_x": d_x, "d_y": d_y}


def key_loss(config, k_params, x, y):
  """Domain classification: X is class 0, Y class 1."""
  net = networks(config)["K"]
  logits = jnp.concatenate([net.apply(k_params, x)[0], net.apply(k_params, y)[0]])
  labels = jnp.concatenate([jnp.zeros(x.shape[0], jnp.int32), jnp.ones(y.shape[0], jnp.int32)])
  ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
  return ce, {"k_ce": ce, "k_acc": jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32))}


def train_step(config: ml_collections.ConfigDict, state: dict, batch: dict) -> tuple[dict, dict]:
  """One update of F, G (jointly), D_X, D_Y (jointly) and K, each network with its own optimizer."""
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"], impl=RNG_IMPL), state["step"])
  r_gen, r_wrong, r_px, r_py = jax.random.split(rng, 4)
  x, y, pasted, region = _batch(batch)
  params = state["params"]
  wrong = jax.random.bernoulli(r_wrong, config.loss.wrong_key_prob, (x.shape[0],)).astype(jnp.float32)

  gen_params = {"F": params["F"], "G": params["G"]}
  g_grads, g_aux = jax.grad(generator_loss, argnums=1, has_aux=True)(
      config, gen_params, params, x, y, pasted, region, wrong, r_gen)
  pool = state["pool"]
  fake_y, pool_y, count_y = pool_query(pool["y"], pool["count_y"], jax.lax.stop_gradient(g_aux["disguise"]), r_py)
  fake_x, pool_x, count_x = pool_query(pool["x"], pool["count_x"], jax.lax.stop_gradient(g_aux["fake_x"]), r_px)
  disc_params = {"D_X": params["D_X"], "D_Y": params["D_Y"]}
  d_grads, d_m = jax.grad(discriminator_loss, argnums=1, has_aux=True)(
      config, disc_params, params, x, y, fake_x, fake_y)
  k_grad, k_m = jax.grad(key_loss, argnums=1, has_aux=True)(config, params["K"], x, y)
  grads = dict(g_grads, **d_grads, K=k_grad)
  new_params, opt_state = optim.apply_updates(optimizers(config), params, state["opt_state"], grads)
  m = dict(g_aux["m"], **d_m, **k_m, wrong_key_fraction=jnp.mean(wrong))
  new_state = dict(state, step=state["step"] + 1, params=new_params, opt_state=opt_state,
                   pool={"x": pool_x, "y": pool_y, "count_x": count_x, "count_y": count_y})
  return new_state, m


# ------------------------------------------------------------------------------------------------ evaluation
def _wrong_index(batch: dict, b: int) -> jnp.ndarray:
  """For row i, another real row ((i + 1) mod the number of real rows, which come first)."""
  n = jnp.sum(batch["mask"]).astype(jnp.int32) if "mask" in batch else b
  n = jnp.maximum(n, 1)
  return (jnp.arange(b) + 1) % n


def eval_step(config: ml_collections.ConfigDict, state: dict, batch: dict):
  """Per-image metrics with the right private key and with another held-out example's key (8-bit files)."""
  nets = networks(config)
  params = state["params"]
  x, y, pasted, _ = _batch(batch)
  public = quantize(keys_of(nets, params, y))
  private = quantize(keys_of(nets, params, x))
  wrong_private = private[_wrong_index(batch, x.shape[0])]
  disguise = quantize(encrypt(nets, params, pasted, public, _enc_private(config, private)))
  decrypted = quantize(decrypt(nets, params, disguise, private))
  decrypted_wrong = quantize(decrypt(nets, params, disguise, wrong_private))
  size = config.data.message_size
  msg = metrics.centre_crop(to_unit(pasted), size)
  out = metrics.region_metrics(msg, metrics.centre_crop(to_unit(decrypted), size), "msg")
  out.update(metrics.region_metrics(msg, metrics.centre_crop(to_unit(decrypted_wrong), size), "wrong_msg"))
  out["encryption_mse"] = metrics.mse_per_image(msg, metrics.centre_crop(to_unit(disguise), size))
  out["decrypted_psnr"] = metrics.psnr(to_unit(pasted), to_unit(decrypted))
  logits_x = nets["K"].apply(params["K"], x)[0]
  logits_y = nets["K"].apply(params["K"], y)[0]
  out["k_acc"] = 0.5 * ((jnp.argmax(logits_x, -1) == 0).astype(jnp.float32)
                        + (jnp.argmax(logits_y, -1) == 1).astype(jnp.float32))
  images = {"pasted": to_unit(pasted), "disguise": to_unit(disguise), "decrypted": to_unit(decrypted),
            "decrypted_wrong": to_unit(decrypted_wrong), "public_key": to_unit(public),
            "private_key": to_unit(private)}
  return out, images


def grid_columns(config: ml_collections.ConfigDict, images: dict) -> list[tuple[str, jnp.ndarray]]:
  del config
  return [("cover+message", images["pasted"]), ("disguise", images["disguise"]),
          ("decrypted (right key)", images["decrypted"]), ("decrypted (wrong key)", images["decrypted_wrong"]),
          ("public key", images["public_key"]), ("private key", images["private_key"])]


def dummy_batch(config: ml_collections.ConfigDict, batch_size: int, size: int | None = None) -> dict:
  s = size or config.data.image_size
  img = jnp.zeros((batch_size, s, s, 3), jnp.uint8)
  return {"x": img, "y": img, "pasted": img, "region": jnp.zeros((batch_size, s, s, 1), jnp.uint8)}


def size_multiple(config: ml_collections.ConfigDict) -> int:
  return 2 ** config.model.n_down

# --------------------------------------------------------------------------------- files (the CLI protocol)
def min_image_side(config: ml_collections.ConfigDict) -> int:
  """Smallest H or W the generators take (reflect padding needs ≥ 2 pixels at the lowest resolution)."""
  return max(8, 2 ** (config.model.n_down + 1))


def message_size(config: ml_collections.ConfigDict) -> int:
  return config.data.message_size


def cipher_functions(config: ml_collections.ConfigDict) -> tasks.CipherFunctions:
  """Pure functions on [-1, 1] images (the DomainCipher capability); `encrypt` uses the private key only for
  models trained with `model.private_key_to_encoder`."""
  nets = networks(config)
  return tasks.CipherFunctions(
      keys=lambda p, images: keys_of(nets, p, images),
      encrypt=lambda p, pasted, public, private: encrypt(nets, p, pasted, public, _enc_private(config, private)),
      decrypt=lambda p, disguise, private: decrypt(nets, p, disguise, private))


def _u8(x: jnp.ndarray) -> np.ndarray:
  return common.to_uint8(to_unit(x))


@common.per_config
def _file_fns(config: ml_collections.ConfigDict):
  fns = cipher_functions(config)
  return jax.jit(fns.keys), jax.jit(fns.encrypt), jax.jit(fns.decrypt)


def key_from_image(config, params, image: np.ndarray) -> np.ndarray:
  """The key image (H, W, 3) uint8 of any (H, W, 3) uint8 image (the key's [-1, 1] mapped to 0..255)."""
  padded, (h, w) = common.pad_to_multiple(image, size_multiple(config))
  key = _file_fns(config)[0](params, to_signed(jnp.asarray(padded))[None])
  return _u8(key[0, :h, :w])


def encrypt_image(config, params, pasted: np.ndarray, public_key: np.ndarray,
                  private_key: np.ndarray | None = None) -> np.ndarray:
  """Cover with the message pasted (H, W, 3) uint8 and a public key of the same size -> the disguise, uint8.

  `private_key` is used only by models trained with `model.private_key_to_encoder`.
  """
  m = size_multiple(config)
  (img, (h, w)), (key, _) = common.pad_to_multiple(pasted, m), common.pad_to_multiple(public_key, m)
  key2 = key if private_key is None else common.pad_to_multiple(private_key, m)[0]
  out = _file_fns(config)[1](params, to_signed(jnp.asarray(img))[None], to_signed(jnp.asarray(key))[None],
                                       to_signed(jnp.asarray(key2))[None])
  return _u8(out[0, :h, :w])


def decrypt_image(config, params, disguise: np.ndarray, private_key: np.ndarray) -> np.ndarray:
  """Disguise (H, W, 3) uint8 and a private key of the same size -> the recovered cover with its message."""
  m = size_multiple(config)
  (img, (h, w)), (key, _) = common.pad_to_multiple(disguise, m), common.pad_to_multiple(private_key, m)
  out = _file_fns(config)[2](params, to_signed(jnp.asarray(img))[None], to_signed(jnp.asarray(key))[None])
  return _u8(out[0, :h, :w])


def message_side(config: ml_collections.ConfigDict, cover_hw: tuple[int, int]) -> int:
  """The trained message/cover ratio applied to this cover's shorter side."""
  return max(1, round(min(cover_hw) * config.data.message_size / config.data.image_size))


def paste_message(cover: np.ndarray, message: np.ndarray, side: int) -> tuple[np.ndarray, tuple[int, int]]:
  """The message resized to side×side and pasted at the cover's centre; returns it and (top, left)."""
  top, left = (cover.shape[0] - side) // 2, (cover.shape[1] - side) // 2
  pasted, _ = domains.paste(cover, domains.message_image(message, side), top, left)
  return pasted, (top, left)
