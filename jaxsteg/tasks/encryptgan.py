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
key and with one other held-out example's key; `extra_evaluation` averages over `eval.num_wrong_keys` wrong keys
(the paper's Security MSE) and writes the key-sensitivity curves (key_sensitivity.json / .png).
"""

from __future__ import annotations

import functools
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import losses
from jaxsteg import metrics
from jaxsteg import optim
from jaxsteg.data import domains
from jaxsteg.models import encryptgan as models

NETS = ("F", "G", "D_X", "D_Y", "K")


def networks(config: ml_collections.ConfigDict):
  return models.make_networks(config.model)


def optimizers(config: ml_collections.ConfigDict):
  """One Adam per network (2e-4, β1 0.5, constant then linear decay in the paper's configs)."""
  return {name: optim.make_optimizer(config.optim, config.num_train_steps) for name in NETS}


def train_dataset(config: ml_collections.ConfigDict):
  from jaxsteg import fid  # pylint: disable=g-import-not-at-top
  fid.load_weights(config, log=False)   # A bad FID/LPIPS weight path fails now, not after training.
  return domains.make_train_dataset(config.data, global_batch=config.batch_size, seed=config.seed)


def eval_set(config: ml_collections.ConfigDict):
  return domains.make_eval_set(config.data)


# ----------------------------------------------------------------------------------------------- helpers
def to_signed(u8: jnp.ndarray) -> jnp.ndarray:
  return u8.astype(jnp.float32) / 127.5 - 1.0


def to_unit(x: jnp.ndarray) -> jnp.ndarray:
  return (x + 1.0) * 0.5


def quantize(x: jnp.ndarray) -> jnp.ndarray:
  """A [-1, 1] image as its 8-bit PNG would hold it."""
  return metrics.quantize_8bit(to_unit(x)) * 2.0 - 1.0


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
    raise ValueError(f"unknown loss.security_mode {lc.security_mode!r}: use hinge or noise")
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
def _centre(img: jnp.ndarray, size: int) -> jnp.ndarray:
  off_h, off_w = (img.shape[1] - size) // 2, (img.shape[2] - size) // 2
  return img[:, off_h:off_h + size, off_w:off_w + size]


def region_metrics(message: jnp.ndarray, decoded: jnp.ndarray, prefix: str = "msg") -> dict:
  """Per-image MSE, RMSE, PSNR, SSIM of a message region (both (B, m, m, 3) in [0, 1])."""
  mse = metrics.mse_per_image(message, decoded)
  size = message.shape[1]
  if size >= 11:
    ssim = metrics.ssim(message, decoded)
  else:  # [inf] regions smaller than the 11×11 window: the window shrinks to the region.
    import dm_pix  # pylint: disable=g-import-not-at-top
    ssim = dm_pix.ssim(message, decoded, max_val=1.0, filter_size=size)
  return {f"{prefix}_mse": mse, f"{prefix}_rmse": jnp.sqrt(mse), f"{prefix}_psnr": metrics.psnr(message, decoded),
          f"{prefix}_ssim": ssim}


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
  msg = _centre(to_unit(pasted), size)
  out = region_metrics(msg, _centre(to_unit(decrypted), size), "msg")
  out.update(region_metrics(msg, _centre(to_unit(decrypted_wrong), size), "wrong_msg"))
  out["encryption_mse"] = metrics.mse_per_image(msg, _centre(to_unit(disguise), size))
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

# --------------------------------------------------------------------------- security and key sensitivity
def _local(tree):
  """Host copies of replicated global arrays (works when they span several processes)."""
  return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)) if isinstance(a, jax.Array) else a, tree)


def _stack_examples(eval_set, n: int) -> dict[str, np.ndarray]:
  rows = [eval_set.example(i) for i in range(n)]
  return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def _chunked(fn, arrays: tuple, chunk: int) -> np.ndarray:
  """fn over rows of `arrays` in fixed-size (padded) chunks, so that it compiles once."""
  n = arrays[0].shape[0]
  outs = []
  for s in range(0, n, chunk):
    part = [a[s:s + chunk] for a in arrays]
    pad = chunk - part[0].shape[0]
    part = [np.concatenate([p, np.repeat(p[-1:], pad, axis=0)]) if pad else p for p in part]
    outs.append(np.asarray(fn(*part))[:chunk - pad])
  return np.concatenate(outs)


def security_analysis(config, params, examples: dict, rng: np.random.Generator | None = None) -> dict:
  """Wrong-key message metrics over up to `num_wrong_keys` other held-out keys per example, and key sensitivity.

  Returns {'security': {metric: mean over all (example, wrong key) pairs}, 'num_wrong_keys': W,
  'sensitivity': {'key_noise': [...], 'source_noise': [...]}} with per-σ message metrics (right key + noise).
  """
  nets = networks(config)
  size = config.data.message_size
  chunk = config.eval.batch_size
  x, y, pasted = (to_signed(jnp.asarray(examples[k])) for k in ("x", "y", "pasted"))
  n = x.shape[0]
  keys_fn = jax.jit(lambda p, img: quantize(keys_of(nets, p, img)))
  enc_fn = jax.jit(lambda p, img, k, k2: quantize(encrypt(nets, p, img, k, _enc_private(config, k2))))
  dec_fn = jax.jit(lambda p, img, k: quantize(decrypt(nets, p, img, k)))
  met_fn = jax.jit(lambda msg, dec: region_metrics(msg, dec, "m"))

  private = _chunked(functools.partial(keys_fn, params), (x,), chunk)
  public = _chunked(functools.partial(keys_fn, params), (y,), chunk)
  disguise = _chunked(functools.partial(enc_fn, params), (pasted, public, private), chunk)
  msg = np.asarray(_centre(to_unit(pasted), size))

  def message_metrics(disg, key, msgs):
    dec = _chunked(functools.partial(dec_fn, params), (disg, key), chunk)
    names = ("mse", "rmse", "psnr", "ssim")
    per = _chunked(lambda a, b: jnp.stack([met_fn(a, _centre(to_unit(b), size))[f"m_{k}"] for k in names], -1),
                   (msgs, dec), chunk)
    return {k: float(np.mean(per[:, j])) for j, k in enumerate(names)}

  w = min(config.eval.num_wrong_keys, n - 1)
  result = {"num_examples": n, "num_wrong_keys": w}
  if w > 0:
    rows = np.repeat(np.arange(n), w)
    others = (rows + np.tile(np.arange(1, w + 1), n)) % n    # The next w held-out examples' private keys.
    result["security"] = message_metrics(disguise[rows], private[others], msg[rows])
  result["right_key"] = message_metrics(disguise, private, msg)
  rng = rng or np.random.default_rng(config.seed)
  curves = {"key_noise": [], "source_noise": []}
  for sigma in config.eval.sensitivity_sigmas:
    noisy_key = np.clip(private + sigma * rng.standard_normal(private.shape), -1.0, 1.0).astype(np.float32)
    curves["key_noise"].append(dict(sigma=float(sigma), **message_metrics(disguise, noisy_key, msg)))
    noisy_src = np.clip(np.asarray(x) + sigma * rng.standard_normal(x.shape), -1.0, 1.0).astype(np.float32)
    src_key = _chunked(functools.partial(keys_fn, params), (noisy_src,), chunk)
    curves["source_noise"].append(dict(sigma=float(sigma), **message_metrics(disguise, src_key, msg)))
  result["sensitivity"] = curves
  return result


def plot_sensitivity(curves: dict, path: str, right_psnr: float, wrong_psnr: float | None) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
  for name, label in (("key_noise", "noise on the private key image"),
                      ("source_noise", "noise on the key's source image")):
    pts = curves[name]
    ax.plot([max(p["sigma"], 1e-3) for p in pts], [p["psnr"] for p in pts], "o-", label=label)
  ax.axhline(right_psnr, color="g", ls=":", label="right key")
  if wrong_psnr is not None:
    ax.axhline(wrong_psnr, color="r", ls=":", label="wrong keys (mean)")
  ax.set_xscale("log")
  ax.set_xlabel("Gaussian σ on [-1, 1] images (σ=0 drawn at 1e-3)")
  ax.set_ylabel("message-region PSNR (dB)")
  ax.legend(fontsize=7)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)


def extra_evaluation(config, setup, state, eval_set, outdir) -> dict[str, float]:
  """Security MSE/PSNR/SSIM over several wrong keys, the key-sensitivity curves, and FID/LPIPS if weights."""
  del setup
  n = min(eval_set.length, config.eval.security_examples)
  examples = _stack_examples(eval_set, n)
  params = _local(state["params"])
  res = security_analysis(config, params, examples)
  out = {"security_num_wrong_keys": float(res["num_wrong_keys"])}
  if "security" in res:
    out.update({f"security_msg_{k}": v for k, v in res["security"].items()})
  from jaxsteg import fid  # pylint: disable=g-import-not-at-top
  out.update(fid.maybe_fid_lpips(config, params, examples, networks(config)))
  if jax.process_index() == 0:
    os.makedirs(os.fspath(outdir), exist_ok=True)
    path = os.path.join(os.fspath(outdir), "key_sensitivity.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
      json.dump(res, f, indent=2)
    os.replace(path + ".tmp", path)
    plot_sensitivity(res["sensitivity"], os.path.join(os.fspath(outdir), "key_sensitivity.png"),
                     res["right_key"]["psnr"], res.get("security", {}).get("psnr"))
  return out


# --------------------------------------------------------------------------------- files (the CLI protocol)
def min_image_side(config: ml_collections.ConfigDict) -> int:
  """Smallest H or W the generators take (reflect padding needs ≥ 2 pixels at the lowest resolution)."""
  return max(8, 2 ** (config.model.n_down + 1))


def _pad(img: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
  h, w = img.shape[:2]
  ph, pw = -h % multiple, -w % multiple
  if ph or pw:
    img = np.pad(img, ((0, ph), (0, pw), (0, 0)), mode="edge")
  return img, (h, w)


def _u8(x: jnp.ndarray) -> np.ndarray:
  return np.asarray(jnp.round(jnp.clip(to_unit(x), 0.0, 1.0) * 255.0).astype(jnp.uint8))


@functools.lru_cache(maxsize=8)
def _file_fns(config_json: str):
  config = ml_collections.ConfigDict(json.loads(config_json))
  nets = networks(config)
  return (jax.jit(lambda p, a: keys_of(nets, p, a)),
          jax.jit(lambda p, a, k, k2: encrypt(nets, p, a, k, _enc_private(config, k2))),
          jax.jit(lambda p, a, k: decrypt(nets, p, a, k)))


def key_from_image(config, params, image: np.ndarray) -> np.ndarray:
  """The key image (H, W, 3) uint8 of any (H, W, 3) uint8 image (the key's [-1, 1] mapped to 0..255)."""
  padded, (h, w) = _pad(image, size_multiple(config))
  key = _file_fns(config.to_json())[0](params, to_signed(jnp.asarray(padded))[None])
  return _u8(key[0, :h, :w])


def encrypt_image(config, params, pasted: np.ndarray, public_key: np.ndarray,
                  private_key: np.ndarray | None = None) -> np.ndarray:
  """Cover with the message pasted (H, W, 3) uint8 and a public key of the same size -> the disguise, uint8.

  `private_key` is used only by models trained with `model.private_key_to_encoder`.
  """
  m = size_multiple(config)
  (img, (h, w)), (key, _) = _pad(pasted, m), _pad(public_key, m)
  key2 = key if private_key is None else _pad(private_key, m)[0]
  out = _file_fns(config.to_json())[1](params, to_signed(jnp.asarray(img))[None], to_signed(jnp.asarray(key))[None],
                                       to_signed(jnp.asarray(key2))[None])
  return _u8(out[0, :h, :w])


def decrypt_image(config, params, disguise: np.ndarray, private_key: np.ndarray) -> np.ndarray:
  """Disguise (H, W, 3) uint8 and a private key of the same size -> the recovered cover with its message."""
  m = size_multiple(config)
  (img, (h, w)), (key, _) = _pad(disguise, m), _pad(private_key, m)
  out = _file_fns(config.to_json())[2](params, to_signed(jnp.asarray(img))[None], to_signed(jnp.asarray(key))[None])
  return _u8(out[0, :h, :w])


def message_side(config: ml_collections.ConfigDict, cover_hw: tuple[int, int]) -> int:
  """The trained message/cover ratio applied to this cover's shorter side."""
  return max(1, round(min(cover_hw) * config.data.message_size / config.data.image_size))


def paste_message(cover: np.ndarray, message: np.ndarray, side: int) -> tuple[np.ndarray, tuple[int, int]]:
  """The message resized to side×side and pasted at the cover's centre; returns it and (top, left)."""
  top, left = (cover.shape[0] - side) // 2, (cover.shape[1] - side) // 2
  pasted, _ = domains.paste(cover, domains.message_image(message, side), top, left)
  return pasted, (top, left)
