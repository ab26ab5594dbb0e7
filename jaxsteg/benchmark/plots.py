"""The benchmark's figures: ROC curves of every detector on every model, and detection accuracy against the number
of training pairs (HiNet's protocol). Robustness curves come from `jaxsteg.evaluators.robustness.plot`."""

from __future__ import annotations

from jaxsteg import files


def _plt():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _save(fig, path: str) -> None:
  with files.atomic_target(path) as tmp:
    fig.savefig(tmp, format="png", dpi=100)


def roc_curves(entries: list[dict], path: str) -> None:
  """One panel per model or baseline: each detector's ROC on the held-out pairs."""
  plt = _plt()
  entries = [e for e in entries if e.get("roc")]
  cols = min(4, max(1, len(entries)))
  rows = (len(entries) + cols - 1) // cols
  fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
  for ax in axes.ravel()[len(entries):]:
    ax.axis("off")
  for ax, e in zip(axes.ravel(), entries):
    for det, curve in e["roc"].items():
      auc = (e.get("steganalysis") or {}).get(det, {}).get("auc", float("nan"))
      ax.plot(curve["false_alarm"], curve["detection"], label=f"{det} ({auc:.2f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_title(e["name"], fontsize=9)
    ax.set_xlabel("false alarms")
    ax.set_ylabel("detections")
    ax.legend(fontsize=5)
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)


def detection_curves(entries: list[dict], path: str) -> None:
  """Held-out accuracy of each model's curve detector against the number of training pairs (log axis)."""
  plt = _plt()
  fig, ax = plt.subplots(figsize=(5.5, 3.6))
  for e in entries:
    curve = e.get("detection_curve") or {}
    pts = sorted((int(n), v["accuracy"]) for n, v in (curve.get("pairs") or {}).items())
    if pts:
      ax.plot(*zip(*pts), "o-", label=f"{e['name']} ({curve.get('detector')})")
  ax.axhline(0.5, ls=":", color="grey")
  ax.set_xscale("log")
  ax.set_xlabel("training pairs")
  ax.set_ylabel("held-out detection accuracy")
  ax.legend(fontsize=6)
  fig.tight_layout()
  _save(fig, path)
  plt.close(fig)
