"""FID and LPIPS of a keyed domain translation (`tasks.DomainCipher`, EncryptGAN), from weight files the user
gives (nothing is downloaded).

Both need pretrained networks that cannot be fetched here. `--config.evals.fid_lpips.fid_weights=FILE` (the FID
Inception-v3 of pytorch-fid, format in jaxsteg/models/inception.py) and `--config.evals.fid_lpips.lpips_weights=
FILE` (LPIPS v0.1 VGG, format in jaxsteg/models/lpips.py) name them; `launch/convert_fid_weights.py` makes both
from the PyTorch weights. Without them the metrics are skipped with one log line each; a given file that is
missing or malformed stops the run before training (`check`). Options (`config.evals.fid_lpips`): fid_weights,
lpips_weights, image_size (Inception input side, 299), num_examples (the first held-out examples used).
Metrics (every image 8-bit quantised, as the files would hold them):
  fid_disguise      FID(real held-out Y images, disguises F(x+m, K(y)))
  fid_decrypted     FID(real held-out X images, right-key decryptions G(disguise, K(x)))
  fid_num_images    images per set. FID is strongly biased upward for small sets (the CPU demo has 26 held-out
                    examples; pytorch-fid asks for ≥ 2048, papers use 10k–50k): compare only equal counts.
  lpips_msg         LPIPS(message, message region of the right-key decryption)     lower = better
  lpips_security    the same with a wrong private key (the next held-out example's)  higher = safer
  lpips_encryption  LPIPS(message, message region of the disguise)  (the paper's Encryption LPIPS; higher =
                    better hidden)
[inf] Message regions smaller than 16×16, the least LPIPS VGG takes (four 2×2 max-pools before relu5_3), are
bilinearly upsampled to 16×16 first; larger ones (16 in the CPU demo, 64 or 128 in the paper) are used as they are.
"""

from __future__ import annotations

import functools
import os

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jaxsteg import errors
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.evaluators import common
from jaxsteg.models import inception
from jaxsteg.models import lpips
from jaxsteg.tasks import common as task_common

CAPABILITY = tasks.DomainCipher

LPIPS_MIN_SIDE = lpips.MIN_SIZE   # [inf] see the module docstring.

_inception_features = jax.jit(inception.pool3_features, static_argnames="size")   # Compiled once per shape.
_lpips_distance = jax.jit(lpips.lpips_distance)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
  """FID formula: ‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) of two (N, D) feature sets."""
  mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
  cov_a = np.atleast_2d(np.cov(feats_a, rowvar=False))
  cov_b = np.atleast_2d(np.cov(feats_b, rowvar=False))
  covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
  if not np.isfinite(covmean).all():  # Singular product: regularise as the reference implementation does.
    eps = 1e-6 * np.eye(cov_a.shape[0])
    covmean = scipy.linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
  covmean = np.real(covmean)
  return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean))


def frechet_distance_few_samples(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
  """The same formula through (Na, Nb) products, exact and fast when N < D (held-out sets of tens of images).

  With A, B the centred features / √(N − 1), Σa = AᵀA and Σb = BᵀB; the non-zero eigenvalues of ΣaΣb are the
  squared singular values of ABᵀ, so Tr (ΣaΣb)^½ = ‖ABᵀ‖_* (sum of singular values). A 2048² `sqrtm` of the
  singular product takes ~40 s on a CPU core and is inaccurate there; this takes milliseconds.
  """
  a, b = (np.asarray(f, np.float64) for f in (feats_a, feats_b))
  mu_a, mu_b = a.mean(0), b.mean(0)
  a, b = (a - mu_a) / np.sqrt(len(a) - 1), (b - mu_b) / np.sqrt(len(b) - 1)
  tr_covmean = np.linalg.svd(a @ b.T, compute_uv=False).sum()
  return float(np.sum((mu_a - mu_b) ** 2) + np.sum(a ** 2) + np.sum(b ** 2) - 2.0 * tr_covmean)


def fid_value(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
  """FID of two (N, D) feature sets: through the N×N products when N ≤ D, else `frechet_distance`."""
  if max(len(feats_a), len(feats_b)) <= feats_a.shape[1]:
    return frechet_distance_few_samples(feats_a, feats_b)
  return frechet_distance(feats_a, feats_b)


def _evaluation_images(config, task, params, examples: dict) -> dict[str, np.ndarray]:
  """Held-out x, y, pasted x+m, disguises, right- and wrong-key decryptions in [0, 1], 8-bit quantised."""
  chunk = config.eval.batch_size
  cipher = task.cipher_functions(config)
  q = metrics.quantize_8bit_signed
  x, y, pasted = (np.asarray(metrics.to_signed(jnp.asarray(examples[k]))) for k in ("x", "y", "pasted"))
  keys_fn = jax.jit(lambda p, img: q(cipher.keys(p, img)))
  enc_fn = jax.jit(lambda p, img, k, k2: q(cipher.encrypt(p, img, k, k2)))
  dec_fn = jax.jit(lambda p, img, k: q(cipher.decrypt(p, img, k)))
  private = common.chunked(functools.partial(keys_fn, params), (x,), chunk)
  public = common.chunked(functools.partial(keys_fn, params), (y,), chunk)
  disguise = common.chunked(functools.partial(enc_fn, params), (pasted, public, private), chunk)

  def decrypt(key):
    return common.chunked(functools.partial(dec_fn, params), (disguise, key), chunk)

  wrong = private[(np.arange(len(x)) + 1) % len(x)]    # The next held-out example's key.
  images = {"x": x, "y": y, "pasted": pasted, "disguise": disguise, "decrypted": decrypt(private),
            "decrypted_wrong": decrypt(wrong)}
  return {k: np.asarray(metrics.to_unit(v)) for k, v in images.items()}


def fid_metrics(config, weights: dict, images: dict[str, np.ndarray]) -> dict[str, float]:
  """FID of disguises vs real Y and of right-key decryptions vs real X, on `eval.fid_image_size` inputs."""
  feats_fn = functools.partial(_inception_features, weights,
                               size=common.options(config, "fid_lpips").get("image_size", 299))
  chunk = config.eval.batch_size
  feats = {k: common.chunked(feats_fn, (images[k],), chunk) for k in ("x", "y", "disguise", "decrypted")}
  n = len(images["x"])
  out = {"fid_disguise": fid_value(feats["y"], feats["disguise"]),
         "fid_decrypted": fid_value(feats["x"], feats["decrypted"]), "fid_num_images": float(n)}
  logging.info("FID on %d held-out images per set (biased upward for few images: compare only at equal "
               "counts): disguise %.2f, decrypted %.2f", n, out["fid_disguise"], out["fid_decrypted"])
  return out


def _lpips_region(images: np.ndarray, size: int) -> np.ndarray:
  """The centre size×size message region, upsampled bilinearly to LPIPS_MIN_SIDE if smaller [inf]."""
  off = ((images.shape[1] - size) // 2, (images.shape[2] - size) // 2)
  region = images[:, off[0]:off[0] + size, off[1]:off[1] + size]
  if size < LPIPS_MIN_SIDE:
    region = np.asarray(jax.image.resize(region, (len(region), LPIPS_MIN_SIDE, LPIPS_MIN_SIDE, 3), "bilinear"))
  return region


def lpips_metrics(config, weights: dict, images: dict[str, np.ndarray], size: int) -> dict[str, float]:
  """LPIPS of the message region: right-key decryption, wrong-key decryption and disguise vs the message."""
  msg = _lpips_region(images["pasted"], size)
  others = {"lpips_msg": "decrypted", "lpips_encryption": "disguise"}
  if len(msg) > 1:     # A single example has no other example's key.
    others["lpips_security"] = "decrypted_wrong"
  dist_fn = functools.partial(_lpips_distance, weights)
  chunk = config.eval.batch_size
  out = {name: float(np.mean(common.chunked(dist_fn, (msg, _lpips_region(images[k], size)), chunk)))
         for name, k in others.items()}
  logging.info("LPIPS of the %d×%d message region over %d held-out examples: %s", size, size, len(msg),
               ", ".join(f"{k} {v:.4f}" for k, v in out.items()))
  return out


def load_weights(config, log: bool = True) -> dict[str, dict]:
  """{'FID': params, 'LPIPS': params} of the configured weight files (absent names: not configured).

  Raises `errors.ConfigError` naming the flag when a given file is missing or not in the expected format
  (`check` runs this before training, so a bad path fails at once rather than after the run).
  """
  opts = common.options(config, "fid_lpips")
  weights = {}
  for name, module in (("FID", inception), ("LPIPS", lpips)):
    field = f"{name.lower()}_weights"
    path = opts.get(field, "")
    if not path:
      if log:
        logging.info("%s skipped: no weights given (set --config.evals.fid_lpips.%s=FILE)", name, field)
      continue
    try:
      weights[name] = module.load_params(os.fspath(path))
    except (OSError, ValueError) as e:
      raise errors.ConfigError(f"--config.evals.fid_lpips.{field}: {e}") from e
  return weights


def check(config) -> None:
  load_weights(config, log=False)


def fid_lpips(config, task, params, examples: dict) -> dict[str, float]:
  """FID / LPIPS (see the module docstring) when weight files are configured; otherwise one log line each.

  Raises `errors.ConfigError` when a given file is missing or not in the expected format.
  """
  weights = {k: jax.device_put(v) for k, v in load_weights(config).items()}   # Fails before any computation.
  if not weights:
    return {}
  images = _evaluation_images(config, task, params, examples)
  out = {}
  if "FID" in weights:
    out.update(fid_metrics(config, weights["FID"], images))
  if "LPIPS" in weights:
    out.update(lpips_metrics(config, weights["LPIPS"], images, task.message_size(config)))
  return out


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  del outdir
  n = min(eval_set.length, common.options(config, "fid_lpips").num_examples)
  return fid_lpips(config, setup.task, task_common.host_params(state["params"]), eval_set.stacked(range(n)))
