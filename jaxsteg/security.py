r"""Security analysis of image hiding (methods spec §0 and §B), for any family that hides images.

Statistics (pure numpy, uint8 images (H, W, C), per image then averaged): histogram χ² against the uniform
distribution, a two-sample χ² between two histograms, Shannon entropy, adjacent-pixel correlation (horizontal,
vertical, diagonal, over random pairs from an explicit rng), NPCR and UACI.

The analysis hides held-out secrets (8-bit rounded containers), then reports: histograms and entropy of cover vs
container; entropy, χ², correlation of secret vs mixed secret; NPCR/UACI of the container and of the mixed secret
when one secret pixel changes; key sensitivity (one key bit flipped); recovery with many wrong keys. Statistics
that need a key apply to keyed families only (`task.KEYED`) and read "n/a" elsewhere. Outputs, in the folder
given: security.json, security.md (measured beside ideal values) and histograms.png, correlation.png.

  python -m jaxsteg.security --workdir W [--step N] [--passphrase-file F] [--num-wrong-keys 20]

writes W/eval/<step>/security/. Families that hide images without a key (deepstego) are analysed too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from typing import Any, Callable

import numpy as np

IDEAL_NPCR = 100.0 * 255.0 / 256.0      # 99.6094 %: P(two independent uniform bytes differ).
IDEAL_UACI = 100.0 * 257.0 / (3 * 256)  # 33.4635 %: E|X − Y| / 255 for independent uniform bytes.
IDEAL_ENTROPY = 8.0
CHI2_CRITICAL_255_05 = 293.2478         # χ²(255 dof) at the 5 % level: uniform histograms lie below it.
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}


# --- Statistics ----------------------------------------------------------------------------------------------

def _as_uint8(img: np.ndarray) -> np.ndarray:
  img = np.asarray(img)
  if img.dtype != np.uint8:
    raise TypeError(f"expected uint8 pixels, got {img.dtype}")
  return img if img.ndim == 3 else img[..., None]


def histograms(img: np.ndarray) -> np.ndarray:
  """(C, 256) counts of each 8-bit value per channel."""
  img = _as_uint8(img)
  return np.stack([np.bincount(img[..., c].ravel(), minlength=256) for c in range(img.shape[-1])])


def chi_square_uniform(img: np.ndarray) -> float:
  """Σ (o − e)² / e over 256 bins with e = HW/256, per channel, averaged over channels."""
  h = histograms(img).astype(np.float64)
  e = h.sum(axis=1, keepdims=True) / 256.0
  return float(np.mean(np.sum((h - e) ** 2 / e, axis=1)))


def chi_square_two_sample(a: np.ndarray, b: np.ndarray) -> float:
  """Σ (h_a − h_b)² / (h_a + h_b) over non-empty bins, per channel, averaged [inf: symmetric distance]."""
  ha, hb = histograms(a).astype(np.float64), histograms(b).astype(np.float64)
  s = ha + hb
  d = np.where(s > 0, (ha - hb) ** 2 / np.where(s > 0, s, 1.0), 0.0)
  return float(np.mean(np.sum(d, axis=1)))


def entropy(img: np.ndarray) -> float:
  """−Σ p(v) log2 p(v) over 256 bins, per channel, averaged over channels (bits; ideal 8)."""
  h = histograms(img).astype(np.float64)
  p = h / h.sum(axis=1, keepdims=True)
  logs = np.log2(np.where(p > 0, p, 1.0))
  return float(np.mean(-np.sum(p * logs, axis=1)))


def adjacent_pairs(img: np.ndarray, direction: str, num_pairs: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
  """`num_pairs` random (pixel, neighbour) values in `direction`, channel chosen at random: two float arrays."""
  img = _as_uint8(img)
  dy, dx = DIRECTIONS[direction]
  h, w, c = img.shape
  ys = rng.integers(0, h - dy, num_pairs)
  xs = rng.integers(0, w - dx, num_pairs)
  cs = rng.integers(0, c, num_pairs)
  return img[ys, xs, cs].astype(np.float64), img[ys + dy, xs + dx, cs].astype(np.float64)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
  """Pearson r; NaN when either side is constant (undefined)."""
  x, y = np.asarray(x, np.float64) - np.mean(x), np.asarray(y, np.float64) - np.mean(y)
  denom = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
  return float(np.sum(x * y) / denom) if denom > 0 else float("nan")


def magnitude_correlation(a: np.ndarray, b: np.ndarray) -> float:
  """Pearson r of |a − mean a| and |b − mean b| [inf]: catches a sign-scrambled copy (b = ±(a − m) + m), which
  has r(a, b) ≈ 0 yet shows the secret's edges and contrast."""
  a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
  return pearson(np.abs(a - a.mean()), np.abs(b - b.mean()))


def adjacent_correlation(img: np.ndarray, direction: str, num_pairs: int, rng: np.random.Generator) -> float:
  """Pearson r of `num_pairs` random neighbour pairs (spec §0: ≥ 3000) in `direction`."""
  return pearson(*adjacent_pairs(img, direction, num_pairs, rng))


def npcr(a: np.ndarray, b: np.ndarray) -> float:
  """100/(HWC) · Σ [a ≠ b] (percent)."""
  a, b = _as_uint8(a), _as_uint8(b)
  return float(100.0 * np.mean(a != b))


def uaci(a: np.ndarray, b: np.ndarray) -> float:
  """100/(HWC) · Σ |a − b| / 255 (percent)."""
  a, b = _as_uint8(a).astype(np.int32), _as_uint8(b).astype(np.int32)
  return float(100.0 * np.mean(np.abs(a - b)) / 255.0)


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
  """PSNR in dB of two uint8 images (MAX 255), capped at 100 dB for identical images (as jaxsteg.metrics)."""
  m = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
  return min(10.0 * math.log10(255.0**2 / max(m, 1e-10 * 255.0**2)), 100.0)


def change_one_pixel(img: np.ndarray) -> np.ndarray:
  """A copy with channel 0 of the centre pixel changed by one level (+1, or −1 at 255)."""
  out = _as_uint8(img).copy()
  y, x = out.shape[0] // 2, out.shape[1] // 2
  out[y, x, 0] = out[y, x, 0] + 1 if out[y, x, 0] < 255 else 254
  return out


# --- Models as functions ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Hider:
  """A model reduced to batched float functions on [0, 1] images; `key` is None for unkeyed families."""
  hide: Callable[[Any, Any, Any], Any]          # (cover (B,H,W,C), secret (B,H,W,C), key) -> container
  reveal: Callable[[Any, Any], Any]             # (container, key) -> revealed secret
  mix: Callable[[Any, Any], Any] | None = None  # (secret, key) -> mixed secret (keyed families)
  keys: dict | None = None                      # right / flipped / wrong keys, notes (keyed families)


class AnalysisError(ValueError):
  """A user-facing problem (the message says what and how to fix it)."""


def make_hider(config, task, params, *, passphrase: str | None = None, num_wrong_keys: int = 20,
               seed: int = 0) -> Hider:
  """Keyed families give `security_functions`/`analysis_keys`; deepstego-like ones `hide`/`reveal`/`networks`;
  any other family that hides images is run image by image through `hide_images`/`reveal_images`."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  if getattr(task, "KEYED", False):
    fns = task.security_functions(config)
    keys = task.analysis_keys(config, params, passphrase, num_wrong_keys, seed)
    return Hider(lambda c, s, k: fns["hide"](params, c, s, k), lambda x, k: fns["reveal"](params, x, k),
                 lambda s, k: fns["mix"](params, s, k), keys)
  if passphrase:
    raise AnalysisError(f"task {config.task!r} takes no key; run without --passphrase-file")
  num = config.model.get("num_secrets", 1)
  if all(hasattr(task, n) for n in ("hide", "reveal", "networks")):
    import jax  # pylint: disable=g-import-not-at-top
    nets = task.networks(config)
    # K-secret models: the analysed secret is hidden in every slot and secret 0 is revealed.
    hide = jax.jit(lambda c, s: task.hide(nets, params, c, jnp.repeat(s[:, None], num, axis=1)))
    reveal = jax.jit(lambda x: task.reveal(nets, params, x, num)[:, 0])
    return Hider(lambda c, s, k: hide(c, s), lambda x, k: reveal(x))
  if not all(hasattr(task, n) for n in ("hide_images", "reveal_images")):
    raise AnalysisError(f"task {config.task!r} does not hide images; the security analysis needs one that does")

  def hide_each(c, s, k):
    del k
    c8, s8 = _to_u8(c), _to_u8(s)
    return np.stack([task.hide_images(config, params, ci, np.repeat(si[None], num, 0)) for ci, si in zip(c8, s8)]
                    ) / 255.0

  def reveal_each(x, k):
    del k
    return np.stack([task.reveal_images(config, params, xi)[0] for xi in _to_u8(x)]) / 255.0
  return Hider(hide_each, reveal_each)


def _to_u8(x) -> np.ndarray:
  return np.round(np.clip(np.asarray(x, np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)


def _f(x: np.ndarray) -> np.ndarray:
  return np.asarray(x, np.float32) / 255.0


# --- Analysis --------------------------------------------------------------------------------------------------

def _mean(values) -> float:
  vals = [v for v in values if not math.isnan(v)]
  return float(np.mean(vals)) if vals else float("nan")


def _ssim_uint8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  from jaxsteg import metrics  # pylint: disable=g-import-not-at-top
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
  m["container_psnr"] = _mean([psnr_uint8(covers[i], container[i]) for i in range(n)])
  m["container_ssim"] = float(np.mean(_ssim_uint8(covers, container)))
  m["secret_psnr"] = _mean([psnr_uint8(secrets[i], revealed[i]) for i in range(n)])
  m["secret_ssim"] = float(np.mean(_ssim_uint8(secrets, revealed)))
  images = {"cover": covers, "container": container, "secret": secrets}
  mixed = None
  if keyed:
    mixed = _to_u8(hider.mix(_f(secrets), right))
    images["mixed_secret"] = mixed
  for name, imgs in images.items():
    m[f"{name}_entropy"] = _mean([entropy(x) for x in imgs])
    m[f"{name}_chi2"] = _mean([chi_square_uniform(x) for x in imgs])
    for d in DIRECTIONS:
      m[f"{name}_corr_{d}"] = _mean([adjacent_correlation(x, d, num_pairs, rng) for x in imgs])
  if keyed:
    m["mixed_magnitude_corr"] = _mean([magnitude_correlation(secrets[i], mixed[i]) for i in range(n)])
  m["cover_vs_container_chi2"] = _mean([chi_square_two_sample(covers[i], container[i]) for i in range(n)])
  # One secret pixel changed: how much do the container (and the mixed secret) change?
  secrets2 = np.stack([change_one_pixel(s) for s in secrets])
  container2 = _to_u8(hider.hide(_f(covers), _f(secrets2), right))
  m["container_npcr_1px"] = _mean([npcr(container[i], container2[i]) for i in range(n)])
  m["container_uaci_1px"] = _mean([uaci(container[i], container2[i]) for i in range(n)])
  samples = {"cover": covers[0], "container": container[0], "secret": secrets[0], "revealed": revealed[0]}
  if keyed:
    mixed2 = _to_u8(hider.mix(_f(secrets2), right))
    m["mixed_npcr_1px"] = _mean([npcr(mixed[i], mixed2[i]) for i in range(n)])
    m["mixed_uaci_1px"] = _mean([uaci(mixed[i], mixed2[i]) for i in range(n)])
    flipped = _to_u8(hider.reveal(_f(container), hider.keys["flipped"]))
    m["key_flip_psnr"] = _mean([psnr_uint8(secrets[i], flipped[i]) for i in range(n)])
    m["key_flip_ssim"] = float(np.mean(_ssim_uint8(secrets, flipped)))
    m["key_flip_npcr"] = _mean([npcr(revealed[i], flipped[i]) for i in range(n)])
    m["key_flip_uaci"] = _mean([uaci(revealed[i], flipped[i]) for i in range(n)])
    mixed_flip = _to_u8(hider.mix(_f(secrets), hider.keys["flipped"]))
    m["key_flip_mixed_npcr"] = _mean([npcr(mixed[i], mixed_flip[i]) for i in range(n)])
    m["key_flip_mixed_uaci"] = _mean([uaci(mixed[i], mixed_flip[i]) for i in range(n)])
    psnrs, ssims, corrs, mags = [], [], [], []
    for k in hider.keys["wrong"]:
      wrong = _to_u8(hider.reveal(_f(container), k))
      psnrs += [psnr_uint8(secrets[i], wrong[i]) for i in range(n)]
      ssims += list(_ssim_uint8(secrets, wrong))
      corrs += [abs(pearson(secrets[i].ravel(), wrong[i].ravel())) for i in range(n)]
      mags += [magnitude_correlation(secrets[i], wrong[i]) for i in range(n)]
    m["wrong_key_psnr"], m["wrong_key_psnr_max"] = _mean(psnrs), float(np.max(psnrs))
    m["wrong_key_ssim"], m["wrong_key_ssim_max"] = _mean(ssims), float(np.max(ssims))
    m["wrong_key_abs_corr"] = _mean(corrs)
    m["wrong_key_magnitude_corr"] = _mean(mags)
    m["num_wrong_keys"] = float(len(hider.keys["wrong"]))
    samples.update(mixed_secret=mixed[0], revealed_wrong_key=wrong[0], revealed_flipped_key=flipped[0])
  return {"measured": m, "samples": samples, "keyed": keyed}


# (name, label, ideal as text, what the ideal means) — the table's rows in order.
ROWS = [
    ("container_psnr", "Container PSNR (dB), right key", "high (≥ 30)", ""),
    ("container_ssim", "Container SSIM", "→ 1", ""),
    ("secret_psnr", "Revealed secret PSNR (dB), right key", "high (≥ 26)", ""),
    ("secret_ssim", "Revealed secret SSIM", "→ 1", ""),
    ("cover_entropy", "Entropy, cover (bits)", "—", "reference"),
    ("container_entropy", "Entropy, container (bits)", "= cover's", "hiding should not change it"),
    ("secret_entropy", "Entropy, secret (bits)", "—", "reference"),
    ("mixed_secret_entropy", "Entropy, mixed secret (bits)", f"{IDEAL_ENTROPY:.4f}", "uniform noise"),
    ("cover_chi2", "Histogram χ² vs uniform, cover", "—", "reference"),
    ("container_chi2", "Histogram χ² vs uniform, container", "= cover's", ""),
    ("secret_chi2", "Histogram χ² vs uniform, secret", "—", "reference"),
    ("mixed_secret_chi2", "Histogram χ² vs uniform, mixed secret", f"< {CHI2_CRITICAL_255_05:.2f}",
     "χ²(255) at 5 %"),
    ("cover_vs_container_chi2", "Histogram χ² distance cover ↔ container", "→ 0", "two-sample [inf]"),
]
for _who in ("secret", "mixed_secret", "cover", "container"):
  for _d in DIRECTIONS:
    ROWS.append((f"{_who}_corr_{_d}", f"Adjacent correlation {_d[0].upper()}, {_who.replace('_', ' ')}",
                 "0.0000" if _who == "mixed_secret" else "—", "uncorrelated" if _who == "mixed_secret" else ""))
ROWS += [
    ("container_npcr_1px", "NPCR container, 1 secret pixel changed (%)", f"{IDEAL_NPCR:.2f}",
     "cipher ideal; a container should rather change little"),
    ("container_uaci_1px", "UACI container, 1 secret pixel changed (%)", f"{IDEAL_UACI:.2f}", "as above"),
    ("mixed_npcr_1px", "NPCR mixed secret, 1 secret pixel changed (%)", f"{IDEAL_NPCR:.2f}", "diffusion"),
    ("mixed_uaci_1px", "UACI mixed secret, 1 secret pixel changed (%)", f"{IDEAL_UACI:.2f}", "diffusion"),
    ("key_flip_psnr", "Key sensitivity: PSNR(S, S' with 1 key bit flipped) (dB)", "low (≤ 12)", ""),
    ("key_flip_ssim", "Key sensitivity: SSIM(S, S' with 1 key bit flipped)", "≈ 0", ""),
    ("key_flip_npcr", "Key sensitivity: NPCR(S'_K, S'_K') (%)", f"{IDEAL_NPCR:.2f}", ""),
    ("key_flip_uaci", "Key sensitivity: UACI(S'_K, S'_K') (%)", f"{IDEAL_UACI:.2f}", ""),
    ("key_flip_mixed_npcr", "Key sensitivity: NPCR(mixed_K, mixed_K') (%)", f"{IDEAL_NPCR:.2f}", ""),
    ("key_flip_mixed_uaci", "Key sensitivity: UACI(mixed_K, mixed_K') (%)", f"{IDEAL_UACI:.2f}", ""),
    ("wrong_key_psnr", "Wrong keys: mean PSNR(S, S'_wrong) (dB)", "low (≤ 12)", ""),
    ("wrong_key_psnr_max", "Wrong keys: worst (max) PSNR (dB)", "low", ""),
    ("wrong_key_ssim", "Wrong keys: mean SSIM(S, S'_wrong)", "≈ 0 (≤ 0.2)", ""),
    ("wrong_key_ssim_max", "Wrong keys: worst (max) SSIM", "≈ 0", ""),
    ("wrong_key_abs_corr", "Wrong keys: mean |corr(S, S'_wrong)|", "≈ 0", ""),
    ("wrong_key_magnitude_corr", "Wrong keys: corr(|S − mean|, |S'_wrong − mean|)", "≈ 0",
     "[inf] > 0: a sign-scrambled secret still shows its edges"),
    ("mixed_magnitude_corr", "Mixed secret: corr(|S − mean|, |S_mix − mean|)", "≈ 0", "[inf] as above"),
]


def _fmt(v) -> str:
  if v is None or (isinstance(v, float) and math.isnan(v)):
    return "n/a"
  return f"{v:.4f}"


def markdown(report: dict) -> str:
  """The report as a markdown table, ideal values beside the measured ones."""
  m = report["measured"]
  head = (f"# Security analysis: `{report['task']}` at step {report['step']}\n\n"
          f"{report['num_images']} held-out images (spread over the set) of {report['image_size']}×{report['image_size']}, "
          f"8-bit rounded containers, statistics per image then averaged; key mode: "
          f"{report.get('key_mode') or 'none (unkeyed family)'}.\n")
  if report.get("keys"):
    k = report["keys"]
    head += (f"Right key: {k['key_source']}. Key flip: {k['flip_note']}. Wrong keys: {k['num_wrong_keys']}"
             f" ({k['wrong_note']}).\n")
  head += ("Ideal values for noise-like outputs: NPCR 99.61 %, UACI 33.46 %, entropy 8. n/a: the statistic "
           "needs a key and this family has none.\n\n| statistic | measured | ideal | note |\n|---|---|---|---|\n")
  esc = lambda text: text.replace("|", "\\|")  # pylint: disable=unnecessary-lambda-assignment
  rows = [f"| {esc(label)} | {_fmt(m.get(name))} | {ideal} | {note} |" for name, label, ideal, note in ROWS]
  return head + "\n".join(rows) + "\n"


def _atomic_write(path: str, data: bytes | str) -> None:
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(data.encode("utf-8") if isinstance(data, str) else data)
  os.replace(tmp, path)


def _save_fig(fig, path: str) -> None:
  tmp = path + ".tmp"
  fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
  os.replace(tmp, path)


def plot_histograms(samples: dict, path: str) -> None:
  """Per-channel histograms: cover vs container, and secret vs mixed secret when there is one."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  pairs = [("cover", "container")] + ([("secret", "mixed_secret")] if "mixed_secret" in samples else [])
  fig, axes = plt.subplots(len(pairs), 2, figsize=(10, 3.2 * len(pairs)), squeeze=False)
  colours = ("tab:red", "tab:green", "tab:blue")
  for row, pair in enumerate(pairs):
    for col, name in enumerate(pair):
      ax = axes[row][col]
      for c, hist in enumerate(histograms(samples[name])):
        ax.plot(np.arange(256), hist, color=colours[c % 3], lw=0.8)
      ax.set_title(f"{name.replace('_', ' ')}: entropy {entropy(samples[name]):.3f} bits")
      ax.set_xlim(0, 255)
  fig.tight_layout()
  _save_fig(fig, path)
  plt.close(fig)


def plot_correlation(samples: dict, path: str, num_pairs: int, seed: int = 0) -> None:
  """Scatter of neighbour pairs (H, V, D) for the secret and the mixed secret (or the container)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  names = ["secret", "mixed_secret" if "mixed_secret" in samples else "container"]
  rng = np.random.default_rng(seed)
  fig, axes = plt.subplots(len(names), 3, figsize=(11, 3.6 * len(names)), squeeze=False)
  for row, name in enumerate(names):
    for col, d in enumerate(DIRECTIONS):
      x, y = adjacent_pairs(samples[name], d, num_pairs, rng)
      ax = axes[row][col]
      ax.scatter(x, y, s=1, alpha=0.4)
      ax.set_title(f"{name.replace('_', ' ')} {d}: r = {_fmt(pearson(x, y))}")
      ax.set_xlim(0, 255)
      ax.set_ylim(0, 255)
  fig.tight_layout()
  _save_fig(fig, path)
  plt.close(fig)


def write_report(report: dict, samples: dict, outdir: str, num_pairs: int) -> None:
  """security.json, security.md, histograms.png, correlation.png in `outdir` (each written atomically)."""
  os.makedirs(outdir, exist_ok=True)
  clean = json.loads(json.dumps(report, default=str).replace("NaN", "null"))
  _atomic_write(os.path.join(outdir, "security.json"), json.dumps(clean, indent=2) + "\n")
  _atomic_write(os.path.join(outdir, "security.md"), markdown(report))
  plot_histograms(samples, os.path.join(outdir, "histograms.png"))
  plot_correlation(samples, os.path.join(outdir, "correlation.png"), num_pairs)


def _analysis_images(eval_set, max_images: int) -> tuple[np.ndarray, np.ndarray]:
  """`max_images` held-out examples spread evenly over the set (every source photograph), or all of them."""
  n = eval_set.length if not max_images else min(eval_set.length, max_images)
  indices = np.unique(np.linspace(0, eval_set.length - 1, n).round().astype(int))
  examples = [eval_set.example(int(i)) for i in indices]
  return np.stack([e["cover"] for e in examples]), np.stack([e["secret"][0] for e in examples])


def evaluate_task(config, task, params, eval_set, outdir, *, step: int, passphrase: str | None = None
                  ) -> dict[str, float]:
  """Runs the analysis of a task's model on its held-out set; process 0 writes the files in `outdir`.

  Returns {'security/<statistic>': value} for the statistics that apply (for metrics.json).
  """
  import jax  # pylint: disable=g-import-not-at-top
  sec = config.get("security") or {}
  num_pairs = int(sec.get("num_pairs", 3000))
  num_wrong = int(sec.get("num_wrong_keys", 20))
  hider = make_hider(config, task, params, passphrase=passphrase, num_wrong_keys=num_wrong, seed=config.seed)
  covers, secrets = _analysis_images(eval_set, int(sec.get("max_images", 16)))
  result = analyze(hider, covers, secrets, num_pairs=num_pairs, seed=config.seed)
  report = {
      "task": config.task,
      "step": step,
      "key_mode": config.model.get("key_mode"),
      "num_images": int(len(covers)),
      "image_size": int(covers.shape[1]),
      "containers": "8-bit rounded",
      "ideal": {"npcr": IDEAL_NPCR, "uaci": IDEAL_UACI, "entropy": IDEAL_ENTROPY,
                "chi2_uniform_critical_5pct": CHI2_CRITICAL_255_05},
      "measured": result["measured"],
  }
  if hider.keys is not None:
    keyed_passphrase = bool(task.needs_passphrase(config)) if hasattr(task, "needs_passphrase") else False
    report["keys"] = {"key_source": hider.keys["key_source"], "flip_note": hider.keys["flip_note"],
                      "num_wrong_keys": len(hider.keys["wrong"]),
                      "wrong_note": hider.keys.get("wrong_note", "random key tensors"),
                      "passphrase_mode": keyed_passphrase}
  if jax.process_index() == 0:
    write_report(report, result["samples"], os.fspath(outdir), num_pairs)
  return {f"security/{k}": float(v) for k, v in result["measured"].items() if not math.isnan(v)}


# --- Entry point ------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxsteg.security", description=__doc__.split("\n\n")[0])
  parser.add_argument("--workdir", required=True, help="a training run's workdir")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: latest)")
  parser.add_argument("--passphrase-file", default=None,
                      help="passphrase-mode models: the right passphrase (default: a built-in analysis one)")
  parser.add_argument("--num-wrong-keys", type=int, default=None, help="wrong keys tried (default: config, 20)")
  parser.add_argument("--max-images", type=int, default=None, help="held-out images analysed (0: all)")
  args = parser.parse_args(argv)
  from jaxsteg import cli, inference  # pylint: disable=g-import-not-at-top,multiple-imports
  try:
    if args.num_wrong_keys is not None and args.num_wrong_keys < 1:
      raise AnalysisError("--num-wrong-keys must be at least 1")
    passphrase = cli.read_passphrase_file(args.passphrase_file) if args.passphrase_file else None
    config = inference.load_config(args.workdir)
    if passphrase and config.get("model", {}).get("key_mode") != "passphrase":
      raise AnalysisError(f"the {config.get('task')!r} model in {args.workdir!r} takes no passphrase; "
                          f"run without --passphrase-file")
    run = inference.load_run(args.workdir, args.step)
    config = run.config
    if not config.get("security"):
      config.security = {"num_pairs": 3000, "num_wrong_keys": 20, "max_images": 16}
    if args.num_wrong_keys is not None:
      config.security.num_wrong_keys = args.num_wrong_keys
    if args.max_images is not None:
      config.security.max_images = args.max_images
    outdir = os.path.join(args.workdir, "eval", str(run.step), "security")
    means = evaluate_task(config, run.task, run.params, run.task.eval_set(config), outdir,
                          passphrase=passphrase, step=run.step)
  except (AnalysisError, cli.CliError, inference.RunError) as e:
    print(f"jaxsteg.security: error: {e}", file=sys.stderr)
    return 2
  print(outdir)
  for k, v in means.items():
    print(f"  {k}: {v:.4f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
