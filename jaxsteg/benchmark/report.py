"""The benchmark report's files: report.json (for other tools), report.md, the plots, and report.html (one
self-contained page: the same tables, every image inline).

report.json holds, per model (and per classical baseline): `steganalysis` (detector name -> accuracy, auc, p_e
and their intervals), `robustness` (distortion name -> metrics), `quality` (the run's own held-out metrics) and
what the model is; `summary` rows are what the markdown table shows.
"""

from __future__ import annotations

import base64
import html
import json
import os

import numpy as np

from jaxsteg import files
from jaxsteg import images as image_io


def _fmt(v, digits: int = 3) -> str:
  if v is None or (isinstance(v, float) and not np.isfinite(v)):
    return "n/a"
  return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def summary_rows(report: dict) -> list[dict]:
  """One row per model / baseline: clean quality, best detector, and the main metric after JPEG 90 and 75."""
  rows = []
  for entry in report["models"] + report["baselines"]:
    best = entry.get("steganalysis_best") or {}
    rob = entry.get("robustness") or {}
    main = entry.get("robustness_main_metric")
    q = entry.get("quality") or {}
    rows.append({
        "model": entry["name"], "kind": entry["kind"],
        "container_psnr": q.get("container_psnr", q.get("msg_psnr")),
        "payload_quality": q.get("secret_psnr", q.get("msg_psnr", q.get("bit_accuracy"))),
        "best_detector": best.get("detector"), "detection_accuracy": best.get("accuracy"),
        "detection_auc": best.get("auc"),
        "main_metric": main,
        "clean": (rob.get("png") or {}).get(main), "jpeg_90": (rob.get("jpeg:90") or {}).get(main),
        "jpeg_75": (rob.get("jpeg:75") or {}).get(main),
    })
  return rows


SUMMARY_COLUMNS = [("model", "model"), ("kind", "kind"), ("container_psnr", "container PSNR (dB)"),
                   ("payload_quality", "secret PSNR / bit acc."), ("best_detector", "best detector"),
                   ("detection_accuracy", "detection acc."), ("detection_auc", "AUC"), ("main_metric", "metric"),
                   ("clean", "PNG"), ("jpeg_90", "JPEG 90"), ("jpeg_75", "JPEG 75")]


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> list[list[str]]:
  return [[title for _, title in columns]] + [[_fmt(r.get(k)) for k, _ in columns] for r in rows]


def _md_table(cells: list[list[str]]) -> str:
  head, *body = cells
  return ("| " + " | ".join(head) + " |\n" + "|---" * len(head) + "|\n"
          + "".join("| " + " | ".join(r) + " |\n" for r in body))


def steganalysis_cells(report: dict) -> list[list[str]]:
  detectors = sorted({d for e in report["models"] + report["baselines"] for d in (e.get("steganalysis") or {})})
  cells = [["model"] + detectors]
  for e in report["models"] + report["baselines"]:
    s = e.get("steganalysis") or {}
    cells.append([e["name"]] + [f"{s[d]['accuracy']:.3f} [{s[d].get('accuracy_lo', float('nan')):.2f}, "
                                f"{s[d].get('accuracy_hi', float('nan')):.2f}] / {s[d]['auc']:.3f}" if d in s
                                else "—" for d in detectors])
  return cells


def robustness_cells(entries: list[dict]) -> list[list[str]]:
  distortions = list(dict.fromkeys(d for e in entries for d in (e.get("robustness") or {})))
  cells = [["model (metric)"] + distortions]
  for e in entries:
    r = e.get("robustness") or {}
    main = e.get("robustness_main_metric")
    cells.append([f"{e['name']} ({main})"] + [_fmt((r.get(d) or {}).get(main)) for d in distortions])
  return cells


def container_notes(report: dict) -> list[str]:
  """What a model's steganalysis containers are, where they are not simply what its hide command writes."""
  return [f"{e['name']}: steganalysis on {e['containers']}." for e in report["models"] if e.get("containers")]


def markdown(report: dict) -> str:
  out = [f"# jaxsteg benchmark\n\n{report['description']}\n", "## Summary\n", _md_table(
      _table(summary_rows(report), SUMMARY_COLUMNS)),
         *[f"\n{line}" for line in container_notes(report)],
         "\n## Steganalysis (held-out pairs: accuracy [95 % interval] / AUC)\n", _md_table(steganalysis_cells(report))]
  with_rob = [e for e in report["models"] if e.get("robustness")]
  if with_rob:
    out += ["\n## Robustness (main metric after each distortion of the 8-bit container)\n",
            _md_table(robustness_cells(with_rob))]
  text_rows = [e for e in with_rob if e["kind"] == "BitChannel"]
  for e in text_rows:
    keys = ["bit_accuracy", "text_exact", "text_authentication_failed", "text_no_message_found",
            "text_not_carried", "text_wrong_text"]
    cells = [["distortion"] + keys] + [[d] + [_fmt(v.get(k)) for k in keys] for d, v in e["robustness"].items()]
    text = e.get("robustness_text") or {}
    what = (f" ({text['text_bytes']}-byte encrypted text per cover, planned for "
            f"{text.get('plan_for') or 'the clean container'})" if text else "")
    out += [f"\n### {e['name']}: what reveal-text returns{what}\n", _md_table(cells)]
  if report.get("plots"):
    out.append("\n## Plots\n")
    out += [f"- `{p}`" for p in report["plots"]]
  out.append(f"\nWall time: {report['seconds'] / 60:.1f} min. Command: `{report['command']}`\n")
  return "\n".join(out) + "\n"


def _html_table(cells: list[list[str]]) -> str:
  head, *body = cells
  return ("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>"
          + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
          + "</tbody></table>")


def _img(path: str, alt: str) -> str:
  with open(path, "rb") as f:
    data = base64.b64encode(f.read()).decode("ascii")
  return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"><figcaption>' \
         f'{html.escape(alt)}</figcaption></figure>'


CSS = ("body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0;"
       "font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}"
       "td:first-child{text-align:left}img{max-width:100%;image-rendering:pixelated}figure{margin:1em 0}")


def html_page(report: dict, outdir: str) -> str:
  parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>jaxsteg benchmark</title><style>{CSS}"
           f"</style></head><body><h1>jaxsteg benchmark</h1><p>{html.escape(report['description'])}</p>",
           "<h2>Summary</h2>", _html_table(_table(summary_rows(report), SUMMARY_COLUMNS)),
           *[f"<p>{html.escape(line)}</p>" for line in container_notes(report)],
           "<h2>Steganalysis</h2><p>Held-out pairs: accuracy [95 % interval] / AUC.</p>",
           _html_table(steganalysis_cells(report))]
  with_rob = [e for e in report["models"] if e.get("robustness")]
  if with_rob:
    parts += ["<h2>Robustness</h2>", _html_table(robustness_cells(with_rob))]
  for p in report.get("plots", []):
    parts.append(_img(os.path.join(outdir, p), p))
  parts.append(f"<p>Wall time {report['seconds'] / 60:.1f} min. Command: <code>{html.escape(report['command'])}"
               f"</code></p></body></html>")
  return "\n".join(parts)


def sample_strip(examples: list[tuple[str, np.ndarray, np.ndarray]], path: str, max_rows: int = 3) -> None:
  """cover | container | 10× |residual| for a few held-out pairs of each model, one block of rows per model."""
  blocks = []
  for name, covers, containers in examples:
    # Shown at twice their size: the pixels stay visible and the column is wide enough for the model's name.
    c, s = (np.repeat(np.repeat(x[:max_rows].astype(np.float32) / 255.0, 2, axis=1), 2, axis=2)
            for x in (covers, containers))
    grid = image_io.make_grid([(f"{name[:24]}: cover", c), ("container", s),
                               ("10x |residual|", np.clip(10.0 * np.abs(s - c), 0.0, 1.0))])
    blocks.append(grid)
  width = max(b.shape[1] for b in blocks)
  padded = [np.pad(b, ((0, 4), (0, width - b.shape[1]), (0, 0)), constant_values=255) for b in blocks]
  image_io.write_png(path, np.concatenate(padded))


def write(report: dict, outdir: str) -> None:
  files.atomic_write(os.path.join(outdir, "report.json"), json.dumps(report, indent=2, default=float) + "\n")
  files.atomic_write(os.path.join(outdir, "report.md"), markdown(report))
  files.atomic_write(os.path.join(outdir, "report.html"), html_page(report, outdir))
