r"""The security report (methods spec §0 and §B) of any model that hides images (`tasks.ImageHider`).

The analysis hides held-out secrets (8-bit rounded containers), then reports: histograms and entropy of cover
vs container; NPCR/UACI of the container when one secret pixel changes; for keyed models (`tasks.Keyed`) also
entropy, χ², correlation of secret vs mixed secret, key sensitivity (one key bit flipped) and recovery with
many wrong keys. Statistics that need a key read "n/a" for unkeyed models. Files, in outdir/security/:
security.json, security.md (measured beside ideal values), histograms.png, correlation.png
(`jaxsteg.evaluators.security_report`). Metrics: 'security/<statistic>'.

Options (`config.evals.security`): num_wrong_keys (20), num_pairs (adjacent pairs per direction, ≥ 3000),
max_images (held-out images analysed, spread over the set; 0: all), enabled. Any checkpoint:
`python -m jaxsteg.security --workdir W`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Callable

import jax
import numpy as np

from jaxsteg import errors
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.evaluators import common
from jaxsteg.evaluators import security_report
from jaxsteg.evaluators import stats

CAPABILITY = tasks.ImageHider
DEFAULTS = {"num_pairs": 3000, "num_wrong_keys": 20, "max_images": 16}


@dataclasses.dataclass
class Hider:
  """A model reduced to batched float functions on [0, 1] images; `key` is None for unkeyed families."""
  hide: Callable[[Any, Any, Any], Any]          # (cover (B,H,W,C), secret (B,H,W,C), key) -> container
  reveal: Callable[[Any, Any], Any]             # (container, key) -> revealed secret
  mix: Callable[[Any, Any], Any] | None = None  # (secret, key) -> mixed secret (keyed families)
  keys: dict | None = None                      # right / flipped / wrong keys, notes (keyed families)


def make_hider(config, task, params, *, passphrase: str | None = None, num_wrong_keys: int = 20,
               seed: int = 0) -> Hider:
  """The model of `task` as a `Hider`; a K-secret model hides the analysed secret in every slot and reveals
  secret 0."""
  tasks.require(task, tasks.ImageHider, "the security report")
  fns = task.image_functions(config)
  if isinstance(task, tasks.Keyed):
    keys = task.analysis_keys(config, params, passphrase, num_wrong_keys, seed)
    mix = task.mix_function(config)
    return Hider(lambda c, s, k: fns.hide(params, c, s[:, None], k), lambda x, k: fns.reveal(params, x, k)[:, 0],
                 lambda s, k: mix(params, s, k), keys)
  if passphrase:
    raise errors.UserError(f"task {config.task!r} takes no key; run without --passphrase-file")
  num = task.num_secrets(config)
  return Hider(lambda c, s, k: fns.hide(params, c, np.repeat(np.asarray(s)[:, None], num, axis=1), None),
               lambda x, k: fns.reveal(params, x, None)[:, 0])


def _to_u8(x) -> np.ndarray:
  return np.round(np.clip(np.asarray(x, np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)


def _f(x: np.ndarray) -> np.ndarray:
  return np.asarray(x, np.float32) / 255.0


def _mean(values) -> float:
  vals = [v for v in values if not math.isnan(v)]
  return float(np.mean(vals)) if vals else float("nan")


def _ssim_uint8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  return np.asarray(metrics.ssim(_f(a), _f(b)), np.float64)


def analyze(hider: Hider, covers: np.ndarray, secrets: np.ndarray, *, num_pairs: int = 3000, seed: int = 0
            ) -> dict:
  """All statistics for covers and secrets (N, H, W, C) uint8. Returns {'measured': {...}, 'samples': {...}}."""
  rng = np.random.default_rng(seed)
  keyed = hider.keys is not None
  right = hider.keys["right"] if keyed else None
  container = _to_u8(hider.hide(_f(covers), _f(secrets), right))
  revealed = _to_u8(hider.reveal(_f(container), right))
  n = len(covers)
  m: dict[str, float] = {}
  m["container_psnr"] = _mean([stats.psnr_uint8(covers[i], container[i]) for i in range(n)])
  m["container_ssim"] = float(np.mean(_ssim_uint8(covers, container)))
  m["secret_psnr"] = _mean([stats.psnr_uint8(secrets[i], revealed[i]) for i in range(n)])
  m["secret_ssim"] = float(np.mean(_ssim_uint8(secrets, revealed)))
  images = {"cover": covers, "container": container, "secret": secrets}
  mixed = None
  if keyed:
    mixed = _to_u8(hider.mix(_f(secrets), right))
    images["mixed_secret"] = mixed
  for name, imgs in images.items():
    m[f"{name}_entropy"] = _mean([stats.entropy(x) for x in imgs])
    m[f"{name}_chi2"] = _mean([stats.chi_square_uniform(x) for x in imgs])
    for d in stats.DIRECTIONS:
      m[f"{name}_corr_{d}"] = _mean([stats.adjacent_correlation(x, d, num_pairs, rng) for x in imgs])
  if keyed:
    m["mixed_magnitude_corr"] = _mean([stats.magnitude_correlation(secrets[i], mixed[i]) for i in range(n)])
  m["cover_vs_container_chi2"] = _mean([stats.chi_square_two_sample(covers[i], container[i]) for i in range(n)])
  # One secret pixel changed: how much do the container (and the mixed secret) change?
  secrets2 = np.stack([stats.change_one_pixel(s) for s in secrets])
  container2 = _to_u8(hider.hide(_f(covers), _f(secrets2), right))
  m["container_npcr_1px"] = _mean([stats.npcr(container[i], container2[i]) for i in range(n)])
  m["container_uaci_1px"] = _mean([stats.uaci(container[i], container2[i]) for i in range(n)])
  samples = {"cover": covers[0], "container": container[0], "secret": secrets[0], "revealed": revealed[0]}
  if keyed:
    mixed2 = _to_u8(hider.mix(_f(secrets2), right))
    m["mixed_npcr_1px"] = _mean([stats.npcr(mixed[i], mixed2[i]) for i in range(n)])
    m["mixed_uaci_1px"] = _mean([stats.uaci(mixed[i], mixed2[i]) for i in range(n)])
    flipped = _to_u8(hider.reveal(_f(container), hider.keys["flipped"]))
    m["key_flip_psnr"] = _mean([stats.psnr_uint8(secrets[i], flipped[i]) for i in range(n)])
    m["key_flip_ssim"] = float(np.mean(_ssim_uint8(secrets, flipped)))
    m["key_flip_npcr"] = _mean([stats.npcr(revealed[i], flipped[i]) for i in range(n)])
    m["key_flip_uaci"] = _mean([stats.uaci(revealed[i], flipped[i]) for i in range(n)])
    mixed_flip = _to_u8(hider.mix(_f(secrets), hider.keys["flipped"]))
    m["key_flip_mixed_npcr"] = _mean([stats.npcr(mixed[i], mixed_flip[i]) for i in range(n)])
    m["key_flip_mixed_uaci"] = _mean([stats.uaci(mixed[i], mixed_flip[i]) for i in range(n)])
    psnrs, ssims, corrs, mags = [], [], [], []
    for k in hider.keys["wrong"]:
      wrong = _to_u8(hider.reveal(_f(container), k))
      psnrs += [stats.psnr_uint8(secrets[i], wrong[i]) for i in range(n)]
      ssims += list(_ssim_uint8(secrets, wrong))
      corrs += [abs(stats.pearson(secrets[i].ravel(), wrong[i].ravel())) for i in range(n)]
      mags += [stats.magnitude_correlation(secrets[i], wrong[i]) for i in range(n)]
    m["wrong_key_psnr"], m["wrong_key_psnr_max"] = _mean(psnrs), float(np.max(psnrs))
    m["wrong_key_ssim"], m["wrong_key_ssim_max"] = _mean(ssims), float(np.max(ssims))
    m["wrong_key_abs_corr"] = _mean(corrs)
    m["wrong_key_magnitude_corr"] = _mean(mags)
    m["num_wrong_keys"] = float(len(hider.keys["wrong"]))
    samples.update(mixed_secret=mixed[0], revealed_wrong_key=wrong[0], revealed_flipped_key=flipped[0])
  return {"measured": m, "samples": samples, "keyed": keyed}


def analyse(config, task, params, eval_set, outdir, *, step: int, passphrase: str | None = None
            ) -> dict[str, float]:
  """Runs the analysis of a model on its held-out set; process 0 writes the files in `outdir`.

  Returns {'security/<statistic>': value} for the statistics that apply (for metrics.json).
  """
  opts = dict(DEFAULTS, **common.options(config, "security").to_dict())
  num_pairs, num_wrong = int(opts["num_pairs"]), int(opts["num_wrong_keys"])
  hider = make_hider(config, task, params, passphrase=passphrase, num_wrong_keys=num_wrong, seed=config.seed)
  examples = eval_set.stacked(eval_set.spread(int(opts["max_images"])))
  covers, secrets = examples["cover"], examples["secret"][:, 0]
  result = analyze(hider, covers, secrets, num_pairs=num_pairs, seed=config.seed)
  report = {
      "task": config.task,
      "step": step,
      "key_mode": config.model.get("key_mode"),
      "num_images": int(len(covers)),
      "image_size": int(covers.shape[1]),
      "containers": "8-bit rounded",
      "ideal": {"npcr": stats.IDEAL_NPCR, "uaci": stats.IDEAL_UACI, "entropy": stats.IDEAL_ENTROPY,
                "chi2_uniform_critical_5pct": stats.CHI2_CRITICAL_255_05},
      "measured": result["measured"],
  }
  if hider.keys is not None:
    report["keys"] = {"key_source": hider.keys["key_source"], "flip_note": hider.keys["flip_note"],
                      "num_wrong_keys": len(hider.keys["wrong"]),
                      "wrong_note": hider.keys.get("wrong_note", "random key tensors"),
                      "passphrase_mode": tasks.needs_passphrase(task, config)}
  if jax.process_index() == 0:
    security_report.write_report(report, result["samples"], os.fspath(outdir), num_pairs)
  return {f"security/{k}": float(v) for k, v in result["measured"].items() if not math.isnan(v)}


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  """The analysis of `state`'s model on the held-out set, written to outdir/security/."""
  return analyse(config, setup.task, state["params"], eval_set, os.path.join(os.fspath(outdir), "security"),
                 step=common.step_of(state))
