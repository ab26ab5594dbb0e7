"""Wrong keys and key sensitivity of a keyed domain translation (`tasks.DomainCipher`, EncryptGAN).

On the first `num_examples` held-out examples (8-bit key images, disguises and decryptions, as files would
hold them): the message-region metrics with up to `num_wrong_keys` other held-out examples' private keys per
example (the paper's Security MSE), averaged over all (example, wrong key) pairs; and the key-sensitivity
curves, message-region metrics with the right key plus Gaussian noise of each σ in `sigmas` (on [-1, 1]
images) on the private key image, and on the key's source image. Files: key_sensitivity.json and .png.
Metrics: security_num_wrong_keys, security_msg_{mse, rmse, psnr, ssim}.

Options (`config.evals.key_sensitivity`): num_examples, num_wrong_keys, sigmas.
"""

from __future__ import annotations

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxsteg import files
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.evaluators import common
from jaxsteg.tasks import common as task_common

CAPABILITY = tasks.DomainCipher


@task_common.per_config
def _functions(config, task):
  """Jitted 8-bit key, encrypt and decrypt functions and the region metrics (compiled once per config)."""
  cipher = task.cipher_functions(config)
  q = metrics.quantize_8bit_signed
  return (jax.jit(lambda p, img: q(cipher.keys(p, img))),
          jax.jit(lambda p, img, k, k2: q(cipher.encrypt(p, img, k, k2))),
          jax.jit(lambda p, img, k: q(cipher.decrypt(p, img, k))),
          jax.jit(lambda msg, dec: metrics.region_metrics(msg, dec, "m")))


def analyse(config, task, params, examples: dict, rng: np.random.Generator | None = None) -> dict:
  """Wrong-key message metrics over up to `num_wrong_keys` other held-out keys per example, and key sensitivity.

  Returns {'security': {metric: mean over all (example, wrong key) pairs}, 'num_wrong_keys': W,
  'sensitivity': {'key_noise': [...], 'source_noise': [...]}} with per-σ message metrics (right key + noise).
  """
  opts = common.options(config, "key_sensitivity")
  size = task.message_size(config)
  chunk = config.eval.batch_size
  x, y, pasted = (metrics.to_signed(jnp.asarray(examples[k])) for k in ("x", "y", "pasted"))
  n = x.shape[0]
  keys_fn, enc_fn, dec_fn, met_fn = _functions(config, task)

  private = common.chunked(functools.partial(keys_fn, params), (x,), chunk)
  public = common.chunked(functools.partial(keys_fn, params), (y,), chunk)
  disguise = common.chunked(functools.partial(enc_fn, params), (pasted, public, private), chunk)
  msg = np.asarray(metrics.centre_crop(metrics.to_unit(pasted), size))

  def message_metrics(disg, key, msgs):
    dec = common.chunked(functools.partial(dec_fn, params), (disg, key), chunk)
    names = ("mse", "rmse", "psnr", "ssim")
    per = common.chunked(
        lambda a, b: jnp.stack([met_fn(a, metrics.centre_crop(metrics.to_unit(b), size))[f"m_{k}"] for k in names],
                               -1), (msgs, dec), chunk)
    return {k: float(np.mean(per[:, j])) for j, k in enumerate(names)}

  w = min(opts.num_wrong_keys, n - 1)
  result = {"num_examples": n, "num_wrong_keys": w}
  if w > 0:
    rows = np.repeat(np.arange(n), w)
    others = (rows + np.tile(np.arange(1, w + 1), n)) % n    # The next w held-out examples' private keys.
    result["security"] = message_metrics(disguise[rows], private[others], msg[rows])
  result["right_key"] = message_metrics(disguise, private, msg)
  rng = rng or np.random.default_rng(config.seed)
  curves = {"key_noise": [], "source_noise": []}
  for sigma in opts.sigmas:
    noisy_key = np.clip(private + sigma * rng.standard_normal(private.shape), -1.0, 1.0).astype(np.float32)
    curves["key_noise"].append(dict(sigma=float(sigma), **message_metrics(disguise, noisy_key, msg)))
    noisy_src = np.clip(np.asarray(x) + sigma * rng.standard_normal(x.shape), -1.0, 1.0).astype(np.float32)
    src_key = common.chunked(functools.partial(keys_fn, params), (noisy_src,), chunk)
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
  with files.atomic_target(path) as tmp:
    fig.savefig(tmp, format="png")
  plt.close(fig)


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  n = min(eval_set.length, common.options(config, "key_sensitivity").num_examples)
  examples = eval_set.stacked(range(n))
  res = analyse(config, setup.task, task_common.host_params(state["params"]), examples)
  out = {"security_num_wrong_keys": float(res["num_wrong_keys"])}
  if "security" in res:
    out.update({f"security_msg_{k}": v for k, v in res["security"].items()})
  if jax.process_index() == 0:
    outdir = os.fspath(outdir)
    files.atomic_write(os.path.join(outdir, "key_sensitivity.json"), json.dumps(res, indent=2))
    plot_sensitivity(res["sensitivity"], os.path.join(outdir, "key_sensitivity.png"),
                     res["right_key"]["psnr"], res.get("security", {}).get("psnr"))
  return out
