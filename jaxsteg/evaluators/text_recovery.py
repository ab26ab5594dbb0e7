"""Exact text recovery through a bit channel (`tasks.BitChannel`): every held-out cover carries a message.

Each cover's bit error rate is probed first (`jaxsteg.payload.channel`), the error correction is planned for
it (so the capacity is known before embedding), then encrypted UTF-8 text of `bpp` net bits per pixel goes in,
the container is written and read as a PNG, and the text must come back exactly. Reported: the exact-recovery
rate (covers too small for the message count as failures), the rate among carried messages, wrong texts
(must be 0), capacities, raw bit error rates and the containers' PSNR/SSIM; per cover in text_eval.json.

Options (`config.evals.text_recovery`): bpp (net payload bits per pixel), passphrase ('' : no encryption,
CRC integrity only). Containers are refined as `config.eval.refine_*` says (the channel's settings).
"""

from __future__ import annotations

import json

from absl import logging
from etils import epath
import jax
import numpy as np

from jaxsteg import files
from jaxsteg import images as image_io
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.evaluators import common
from jaxsteg.payload import channel
from jaxsteg.payload import codec

CAPABILITY = tasks.BitChannel

_ALPHABET = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()-\n"
             "éèüößñçåøæ€£©°±×÷αβγδλπΩЖжшщ你好世界日本語한국어✓★🙂🚀")


def sample_text(rng: np.random.Generator, num_bytes: int) -> str:
  """Random UTF-8 text of exactly `num_bytes` bytes, mixing 1- to 4-byte characters."""
  chars, size = [], 0
  while size < num_bytes:
    ch = _ALPHABET[int(rng.integers(len(_ALPHABET)))]
    n = len(ch.encode("utf-8"))
    if size + n > num_bytes:
      ch, n = "x", 1
    chars.append(ch)
    size += n
  return "".join(chars)


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  """The exact text path over every held-out cover, each planned from its own probed error rate.

  For each cover: probe the error rate (random bits) -> capacity -> encrypted UTF-8 text of exactly `bpp`
  net bits per pixel (when it fits) -> container -> PNG file round trip -> decoder -> text. A cover whose
  capacity is below the message counts as a failure of exact recovery (the CLI would refuse it with its
  maximum); a carried message must come back exactly (never wrong text: that would be a bug).
  """
  opts = common.options(config, "text_recovery")
  params = jax.device_get(state["params"])
  fns = channel.host_channel(config, jax.local_devices())   # Every cover at once, split over the host's devices.
  covers = np.stack([eval_set.example(i)["cover"] for i in range(eval_set.length)])
  h, w = covers.shape[1:3]
  field = tasks.bit_shape(setup.task, config, h, w)
  passphrase = opts.get("passphrase") or None
  num_bytes = int(opts.bpp * h * w / 8)
  probed = channel.probe_bers(config, params, covers, [config.seed + i for i in range(len(covers))], fns)
  rows, messages = [], {}
  for i in range(len(covers)):
    plan_ber = channel.design_ber(float(probed[i]))
    cap = codec.capacity(*field, ber=plan_ber, encrypted=passphrase is not None)
    row = {"cover": i, "probe_ber": float(probed[i]), "design_ber": plan_ber, "capacity_bytes": cap,
           "carried": False, "exact": False, "error": ""}
    rows.append(row)
    text = sample_text(np.random.default_rng([config.seed, 11, i]), num_bytes)
    try:
      bits = codec.encode_text(text, field, ber=plan_ber, passphrase=passphrase, compress=False)
    except codec.PayloadTooLarge as e:
      row["error"] = str(e)
      continue
    row["carried"] = True
    messages[i] = (text, bits)
  if messages:
    idx = sorted(messages)
    sent = np.stack([messages[i][1] for i in idx])
    containers = channel.hide_bits_batch(config, params, covers[idx], sent, fns)
    received = np.stack([image_io.png_round_trip(c).reshape(c.shape) for c in containers])
    logits = channel.reveal_logits_batch(config, params, received, fns)
    c01, r01 = covers[idx].astype(np.float32) / 255.0, received.astype(np.float32) / 255.0
    psnr, ssim = np.asarray(metrics.psnr(c01, r01)), np.asarray(metrics.ssim(c01, r01))
    for j, i in enumerate(idx):
      row, text = rows[i], messages[i][0]
      row["raw_bit_error_rate"] = float(np.mean((logits[j] > 0) != (sent[j] > 0)))
      row["container_psnr"], row["container_ssim"] = float(psnr[j]), float(ssim[j])
      try:
        decoded = codec.decode_text(logits[j], passphrase=passphrase)
        row["exact"] = decoded == text
        row["error"] = "" if row["exact"] else "WRONG TEXT"
      except codec.PayloadError as e:
        row["error"] = f"{type(e).__name__}: {e}"
  carried = [r for r in rows if r["carried"]]
  caps = np.asarray([r["capacity_bytes"] for r in rows], np.float64)
  psnrs = np.asarray([r["container_psnr"] for r in carried], np.float64)
  ssims = np.asarray([r["container_ssim"] for r in carried], np.float64)
  raw_bers = np.asarray([r["raw_bit_error_rate"] for r in carried], np.float64)
  out = {
      "text_exact_recovery": float(np.mean([r["exact"] for r in rows])) if rows else 0.0,
      "text_carried_fraction": len(carried) / max(len(rows), 1),
      "text_exact_when_carried": float(np.mean([r["exact"] for r in carried])) if carried else 0.0,
      "text_wrong_text": float(sum(r["error"] == "WRONG TEXT" for r in rows)),
      "text_covers": float(len(rows)),
      "text_bytes": float(num_bytes),
      "text_net_bpp": 8.0 * num_bytes / (h * w),
      "text_capacity_bytes_mean": float(caps.mean()) if rows else 0.0,
      "text_capacity_bytes_min": float(caps.min()) if rows else 0.0,
      "text_capacity_bpp_mean": 8.0 * float(caps.mean()) / (h * w) if rows else 0.0,
      "text_probe_ber_mean": float(np.mean([r["probe_ber"] for r in rows])) if rows else 0.0,
      "text_probe_ber_max": float(np.max([r["probe_ber"] for r in rows])) if rows else 0.0,
      # The containers that carried the text (refined when eval.refine_steps > 0), after the PNG round trip.
      "text_container_psnr_mean": float(psnrs.mean()) if carried else 0.0,
      "text_container_psnr_min": float(psnrs.min()) if carried else 0.0,
      "text_container_ssim_mean": float(ssims.mean()) if carried else 0.0,
      "text_raw_ber_mean": float(raw_bers.mean()) if carried else 0.0,
      "text_raw_ber_max": float(raw_bers.max()) if carried else 0.0,
  }
  if jax.process_index() == 0:
    files.atomic_write(epath.Path(outdir) / "text_eval.json", json.dumps(
        {"summary": out, "encrypted": passphrase is not None, "cover_size": [h, w], "depth": field[2],
         "field": list(field), "probe_margin": channel.PROBE_MARGIN, "refine_steps": int(config.eval.get("refine_steps", 0)),
         "per_cover": rows}, indent=2) + "\n")
  logging.info("Exact text: %d/%d covers recovered at %.3f net bpp (%d bytes); %d carried; capacity mean %.0f, "
               "min %.0f bytes", sum(r["exact"] for r in rows), len(rows), out["text_net_bpp"], num_bytes,
               len(carried), out["text_capacity_bytes_mean"], out["text_capacity_bytes_min"])
  return out
