"""The security report's files: security.md (measured beside ideal values), security.json, histograms.png and
correlation.png, each written atomically. `ROWS` is the table: what each statistic means and its ideal."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from jaxsteg import files
from jaxsteg.evaluators import stats

# (name, label, ideal as text, what the ideal means) — the table's rows in order.
ROWS = [
    ("container_psnr", "Container PSNR (dB), right key", "high (≥ 30)", ""),
    ("container_ssim", "Container SSIM", "→ 1", ""),
    ("secret_psnr", "Revealed secret PSNR (dB), right key", "high (≥ 26)", ""),
    ("secret_ssim", "Revealed secret SSIM", "→ 1", ""),
    ("cover_entropy", "Entropy, cover (bits)", "—", "reference"),
    ("container_entropy", "Entropy, container (bits)", "= cover's", "hiding should not change it"),
    ("secret_entropy", "Entropy, secret (bits)", "—", "reference"),
    ("mixed_secret_entropy", "Entropy, mixed secret (bits)", f"{stats.IDEAL_ENTROPY:.4f}", "uniform noise"),
    ("cover_chi2", "Histogram χ² vs uniform, cover", "—", "reference"),
    ("container_chi2", "Histogram χ² vs uniform, container", "= cover's", ""),
    ("secret_chi2", "Histogram χ² vs uniform, secret", "—", "reference"),
    ("mixed_secret_chi2", "Histogram χ² vs uniform, mixed secret", f"< {stats.CHI2_CRITICAL_255_05:.2f}",
     "χ²(255) at 5 %"),
    ("cover_vs_container_chi2", "Histogram χ² distance cover ↔ container", "→ 0", "two-sample [inf]"),
]
for _who in ("secret", "mixed_secret", "cover", "container"):
  for _d in stats.DIRECTIONS:
    ROWS.append((f"{_who}_corr_{_d}", f"Adjacent correlation {_d[0].upper()}, {_who.replace('_', ' ')}",
                 "0.0000" if _who == "mixed_secret" else "—", "uncorrelated" if _who == "mixed_secret" else ""))
ROWS += [
    ("container_npcr_1px", "NPCR container, 1 secret pixel changed (%)", f"{stats.IDEAL_NPCR:.2f}",
     "cipher ideal; a container should rather change little"),
    ("container_uaci_1px", "UACI container, 1 secret pixel changed (%)", f"{stats.IDEAL_UACI:.2f}", "as above"),
    ("mixed_npcr_1px", "NPCR mixed secret, 1 secret pixel changed (%)", f"{stats.IDEAL_NPCR:.2f}", "diffusion"),
    ("mixed_uaci_1px", "UACI mixed secret, 1 secret pixel changed (%)", f"{stats.IDEAL_UACI:.2f}", "diffusion"),
    ("key_flip_psnr", "Key sensitivity: PSNR(S, S' with 1 key bit flipped) (dB)", "low (≤ 12)", ""),
    ("key_flip_ssim", "Key sensitivity: SSIM(S, S' with 1 key bit flipped)", "≈ 0", ""),
    ("key_flip_npcr", "Key sensitivity: NPCR(S'_K, S'_K') (%)", f"{stats.IDEAL_NPCR:.2f}", ""),
    ("key_flip_uaci", "Key sensitivity: UACI(S'_K, S'_K') (%)", f"{stats.IDEAL_UACI:.2f}", ""),
    ("key_flip_mixed_npcr", "Key sensitivity: NPCR(mixed_K, mixed_K') (%)", f"{stats.IDEAL_NPCR:.2f}", ""),
    ("key_flip_mixed_uaci", "Key sensitivity: UACI(mixed_K, mixed_K') (%)", f"{stats.IDEAL_UACI:.2f}", ""),
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


def _save_fig(fig, path: str) -> None:
  with files.atomic_target(path) as tmp:
    fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


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
      for c, hist in enumerate(stats.histograms(samples[name])):
        ax.plot(np.arange(256), hist, color=colours[c % 3], lw=0.8)
      ax.set_title(f"{name.replace('_', ' ')}: entropy {stats.entropy(samples[name]):.3f} bits")
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
    for col, d in enumerate(stats.DIRECTIONS):
      x, y = stats.adjacent_pairs(samples[name], d, num_pairs, rng)
      ax = axes[row][col]
      ax.scatter(x, y, s=1, alpha=0.4)
      ax.set_title(f"{name.replace('_', ' ')} {d}: r = {_fmt(stats.pearson(x, y))}")
      ax.set_xlim(0, 255)
      ax.set_ylim(0, 255)
  fig.tight_layout()
  _save_fig(fig, path)
  plt.close(fig)


def write_report(report: dict, samples: dict, outdir: str, num_pairs: int) -> None:
  """security.json, security.md, histograms.png, correlation.png in `outdir` (each written atomically)."""
  os.makedirs(outdir, exist_ok=True)
  clean = json.loads(json.dumps(report, default=str).replace("NaN", "null"))
  files.atomic_write(os.path.join(outdir, "security.json"), json.dumps(clean, indent=2) + "\n")
  files.atomic_write(os.path.join(outdir, "security.md"), markdown(report))
  plot_histograms(samples, os.path.join(outdir, "histograms.png"))
  plot_correlation(samples, os.path.join(outdir, "correlation.png"), num_pairs)
