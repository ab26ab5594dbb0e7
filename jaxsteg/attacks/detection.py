"""Detection metrics of a steganalyser on paired held-out images: accuracy, AUC and P_E, with bootstrap intervals.

A detector gives a score per image (higher: more likely a container) and a threshold (its own decision rule:
0 for logits or decision functions). On N held-out pairs (cover i, container i):

  accuracy  fraction of the 2N images classified right at the detector's own threshold (what it would do)
  auc       area under the ROC curve (threshold-free)
  p_e       min over thresholds of ½(P_FA + P_MD), the minimal total error under equal priors (Kodovský et al.
            2012); it picks the best threshold on the test set itself, so it is the detector's best case
  *_ci      95 % bootstrap interval over pairs (each pair resampled as a unit: a container and its own cover)

Chance is accuracy 0.5, AUC 0.5, P_E 0.5. numpy and scipy only.
"""

from __future__ import annotations

import numpy as np


def _labels_scores(cover_scores: np.ndarray, container_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  cover_scores, container_scores = np.asarray(cover_scores, np.float64), np.asarray(container_scores, np.float64)
  if cover_scores.shape != container_scores.shape or cover_scores.ndim != 1:
    raise ValueError(f"expected paired 1-D scores, got {cover_scores.shape} and {container_scores.shape}")
  return (np.concatenate([np.zeros(len(cover_scores)), np.ones(len(container_scores))]),
          np.concatenate([cover_scores, container_scores]))


def accuracy(cover_scores, container_scores, threshold: float = 0.0) -> float:
  labels, scores = _labels_scores(cover_scores, container_scores)
  return float(np.mean((scores > threshold) == (labels > 0.5)))


def auc(cover_scores, container_scores) -> float:
  """P(score of a container > score of a cover), ties counted half (the Mann-Whitney form of the AUC)."""
  from scipy import stats  # pylint: disable=g-import-not-at-top
  c, s = np.asarray(cover_scores, np.float64), np.asarray(container_scores, np.float64)
  ranks = stats.rankdata(np.concatenate([c, s]))
  return float((ranks[len(c):].sum() - len(s) * (len(s) + 1) / 2.0) / (len(c) * len(s)))


def roc(cover_scores, container_scores) -> tuple[np.ndarray, np.ndarray]:
  """(false-alarm rates, detection rates) at every distinct threshold, from (0, 0) to (1, 1)."""
  c, s = np.asarray(cover_scores, np.float64), np.asarray(container_scores, np.float64)
  thresholds = np.unique(np.concatenate([c, s]))[::-1]            # Each: "container when score >= t".
  fa = np.searchsorted(np.sort(-c), -thresholds, side="right") / len(c)
  det = np.searchsorted(np.sort(-s), -thresholds, side="right") / len(s)
  return np.concatenate([[0.0], fa]), np.concatenate([[0.0], det])


def p_e(cover_scores, container_scores) -> float:
  fa, det = roc(cover_scores, container_scores)
  return float(np.min(0.5 * (fa + (1.0 - det))))


def summarize(cover_scores, container_scores, *, threshold: float = 0.0, num_bootstrap: int = 1000,
              seed: int = 0) -> dict[str, float]:
  """accuracy, auc, p_e, their 95 % bootstrap intervals (`*_lo`, `*_hi`, over pairs), and num_pairs."""
  c, s = np.asarray(cover_scores, np.float64), np.asarray(container_scores, np.float64)
  out = {"accuracy": accuracy(c, s, threshold), "auc": auc(c, s), "p_e": p_e(c, s), "num_pairs": float(len(c))}
  if num_bootstrap:
    rng = np.random.default_rng(seed)
    boot = {k: [] for k in ("accuracy", "auc", "p_e")}
    for _ in range(num_bootstrap):
      idx = rng.integers(0, len(c), len(c))
      boot["accuracy"].append(accuracy(c[idx], s[idx], threshold))
      boot["auc"].append(auc(c[idx], s[idx]))
      boot["p_e"].append(p_e(c[idx], s[idx]))
    for k, v in boot.items():
      out[f"{k}_lo"], out[f"{k}_hi"] = (float(x) for x in np.percentile(v, [2.5, 97.5]))
  return out
