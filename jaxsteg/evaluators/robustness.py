"""Robustness: what survives real distortions of the 8-bit container (JPEG, noise, resizing, blur, cropping).

Every held-out container (the PNG that would be sent) goes through each distortion of `distortions`
(`jaxsteg.attacks.distortions`: real codecs, seeded) before it is revealed, by capability:
  ImageHider    secret PSNR / SSIM (RGB) and PSNR on Y of the revealed secret(s) against the original secret;
                `attacked_psnr` says how much the distortion itself changed the container
  BitChannel    raw bit accuracy, and what `jaxsteg reveal-text` returns for an encrypted `text_bytes` message
                planned (like `jaxsteg hide-text`) for the bit error rate probed on the clean cover (or after
                the distortion `plan_for`, like `hide-text --survive`): the
                fractions exact / authentication failed / no message found / not carried (over capacity on
                that cover), and wrong texts (must be 0)
  DomainCipher  message-region PSNR / SSIM of the right-key decryption of the distorted disguise
Files: robustness.json (every number, per distortion), robustness.md (a table), robustness.png (the main metric
against the distortion's strength, one panel per family). Metrics: 'robust/<distortion>/<metric>'.

Options (`config.evals.robustness`): distortions (specs; default the attack suite's), max_images (held-out
examples, spread over the set; 0: all), text_bytes, passphrase, seed, plan_for (bit channels: a distortion spec;
the text is then planned for the error rate probed after that distortion, as `hide-text --survive` does).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.evaluators import common
from jaxsteg.tasks import common as task_common

CAPABILITY = None   # Any of ImageHider, BitChannel, DomainCipher (checked by `check`).
DEFAULTS = {"max_images": 0, "text_bytes": 1024, "passphrase": "jaxsteg-eval", "seed": 0, "plan_for": ""}
MAIN_METRIC = {"ImageHider": "secret_psnr", "BitChannel": "bit_accuracy", "DomainCipher": "msg_psnr"}


def kind(task) -> str:
  for capability in (tasks.DomainCipher, tasks.BitChannel, tasks.ImageHider):
    if isinstance(task, capability):
      return capability.__name__
  raise errors.ConfigError(f"the robustness evaluator needs a model that hides images, bits or messages; task "
                           f"{task.__name__.rsplit('.', 1)[-1]!r} does none of these")


def options(config) -> dict:
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  opts = dict(DEFAULTS, distortions=tuple(distortions.DEFAULT_SUITE))
  opts.update({k: v for k, v in common.options(config, "robustness").to_dict().items() if k != "enabled"})
  opts["distortions"] = tuple(opts["distortions"])
  return opts


def check(config) -> None:
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  kind(tasks.get_task(config.task))
  opts = options(config)
  for spec in opts["distortions"] + ((opts["plan_for"],) if opts.get("plan_for") else ()):
    distortions.get(spec)


def _chunked_u8(fn, arrays, chunk: int = 32) -> np.ndarray:
  return common.chunked(lambda *a: task_common.to_uint8(fn(*a)), arrays, chunk)


def _image_hider(task, config, params, eval_set, opts, key) -> dict[str, dict]:
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  ex = eval_set.stacked(eval_set.spread(opts["max_images"]))
  covers, secrets = ex["cover"], ex["secret"]                      # (N, H, W, C), (N, K, H, W, C) uint8
  fns = task.image_functions(config)
  containers = _chunked_u8(lambda c, s: fns.hide(params, c / 255.0, s / 255.0, key),
                           (covers.astype(np.float32), secrets.astype(np.float32)))
  s01 = jnp.asarray(secrets, jnp.float32) / 255.0
  out = {}
  for spec in opts["distortions"]:
    d = distortions.get(spec)
    received = d.apply(containers, seed=opts["seed"])
    revealed = _chunked_u8(lambda x: fns.reveal(params, x / 255.0, key), (received.astype(np.float32),))
    r01 = jnp.asarray(revealed, jnp.float32) / 255.0
    per_k = [(metrics.psnr(s01[:, k], r01[:, k]), metrics.ssim(s01[:, k], r01[:, k]),
              metrics.psnr(metrics.rgb_to_y(s01[:, k]), metrics.rgb_to_y(r01[:, k])) if s01.shape[-1] == 3
              else metrics.psnr(s01[:, k], r01[:, k])) for k in range(s01.shape[1])]
    out[d.name] = {
        "secret_psnr": float(np.mean([np.mean(p) for p, _, _ in per_k])),
        "secret_ssim": float(np.mean([np.mean(s) for _, s, _ in per_k])),
        "secret_psnr_y": float(np.mean([np.mean(y) for _, _, y in per_k])),
        "attacked_psnr": float(np.mean(metrics.psnr(jnp.asarray(containers, jnp.float32) / 255.0,
                                                    jnp.asarray(received, jnp.float32) / 255.0))),
    }
  return out


def _bit_channel(task, config, params, eval_set, opts) -> dict[str, dict]:
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  from jaxsteg.evaluators import text_recovery  # pylint: disable=g-import-not-at-top
  from jaxsteg.payload import channel, codec  # pylint: disable=g-import-not-at-top,multiple-imports
  idx = eval_set.spread(opts["max_images"])
  covers = np.stack([eval_set.example(int(i))["cover"] for i in idx])
  h, w = covers.shape[1:3]
  field = tasks.bit_shape(task, config, h, w)
  fns = channel.host_channel(config, jax.local_devices())
  survive = distortions.get(opts["plan_for"]) if opts.get("plan_for") else None
  probed = channel.probe_bers(config, params, covers, [config.seed + int(i) for i in idx], fns, survive)
  passphrase = opts["passphrase"] or None
  # Each cover carries the encrypted text when it fits (planned for its probed error rate, as hide-text does),
  # else random bits: the raw bit accuracy is measured on every cover, the text outcome on those that carry it.
  sent, texts = [], {}
  for j, i in enumerate(idx):
    text = text_recovery.sample_text(np.random.default_rng([config.seed, 13, int(i)]), int(opts["text_bytes"]))
    try:
      sent.append(codec.encode_text(text, field, ber=channel.design_ber(float(probed[j])),
                                    passphrase=passphrase, compress=False))
      texts[j] = text
    except codec.PayloadTooLarge:
      sent.append(channel.probe_bits(config, (h, w), config.seed + int(i)))
  sent = np.stack(sent)
  containers = channel.hide_bits_batch(config, params, covers, sent, fns)
  n = len(covers)
  out = {}
  for spec in opts["distortions"]:
    d = distortions.get(spec)
    received = d.apply(containers, seed=opts["seed"])
    logits = channel.reveal_logits_batch(config, params, received, fns)
    outcome = {"exact": 0, "authentication_failed": 0, "no_message_found": 0, "wrong_text": 0}
    for j, text in texts.items():
      try:
        outcome["exact" if codec.decode_text(logits[j], passphrase=passphrase) == text else "wrong_text"] += 1
      except codec.AuthenticationFailed:
        outcome["authentication_failed"] += 1
      except codec.PayloadError:
        outcome["no_message_found"] += 1
    out[d.name] = {"bit_accuracy": float(np.mean((logits > 0) == (sent > 0))),
                   **{f"text_{k}": v / n for k, v in outcome.items() if k != "wrong_text"},
                   "text_not_carried": (n - len(texts)) / n, "text_wrong_text": float(outcome["wrong_text"])}
  return out


@task_common.per_config
def _cipher_functions(config, task):
  cipher = task.cipher_functions(config)
  q = metrics.quantize_8bit_signed
  return (jax.jit(lambda p, img: q(cipher.keys(p, img))),
          jax.jit(lambda p, img, k, k2: q(cipher.encrypt(p, img, k, k2))),
          jax.jit(lambda p, img, k: q(cipher.decrypt(p, img, k))))


def _domain_cipher(task, config, params, eval_set, opts) -> dict[str, dict]:
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  ex = eval_set.stacked(eval_set.spread(opts["max_images"]))
  keys_fn, enc_fn, dec_fn = _cipher_functions(config, task)
  chunk = config.eval.batch_size
  x, y, pasted = (np.asarray(metrics.to_signed(jnp.asarray(ex[k]))) for k in ("x", "y", "pasted"))
  private = common.chunked(functools.partial(keys_fn, params), (x,), chunk)
  public = common.chunked(functools.partial(keys_fn, params), (y,), chunk)
  disguise = common.chunked(functools.partial(enc_fn, params), (pasted, public, private), chunk)
  disguise_u8 = task_common.to_uint8(metrics.to_unit(disguise))
  size = task.message_size(config)
  msg = metrics.centre_crop(metrics.to_unit(jnp.asarray(pasted)), size)
  out = {}
  for spec in opts["distortions"]:
    d = distortions.get(spec)
    received = np.asarray(metrics.to_signed(jnp.asarray(d.apply(disguise_u8, seed=opts["seed"]))))
    dec = common.chunked(functools.partial(dec_fn, params), (received, private), chunk)
    m = metrics.region_metrics(msg, metrics.centre_crop(metrics.to_unit(jnp.asarray(dec)), size), "msg")
    out[d.name] = {k: float(np.mean(v)) for k, v in m.items()}
  return out


def analyse(task, config, params, eval_set, opts: dict, key: Any = None) -> dict:
  """{'kind', 'main_metric', 'distortions': {name: {metric: value}}} of a model on its held-out set."""
  k = kind(task)
  if k == "ImageHider":
    curves = _image_hider(task, config, params, eval_set, opts, key)
  elif k == "BitChannel":
    curves = _bit_channel(task, config, params, eval_set, opts)
  else:
    curves = _domain_cipher(task, config, params, eval_set, opts)
  return {"kind": k, "main_metric": MAIN_METRIC[k], "distortions": curves,
          "options": {kk: (list(v) if isinstance(v, tuple) else v) for kk, v in opts.items()}}


def markdown(result: dict, title: str) -> str:
  names = list(next(iter(result["distortions"].values())))
  rows = [f"| {d} | " + " | ".join(f"{v[n]:.4f}" for n in names) + " |" for d, v in result["distortions"].items()]
  header = "| distortion | " + " | ".join(names) + " |\n" + "|---" * (len(names) + 1) + "|\n"
  return (f"# Robustness: {title}\n\nHeld-out 8-bit containers, each distortion applied before revealing "
          f"({result['kind']}).\n\n" + header + "\n".join(rows) + "\n")


def plot(results: dict[str, dict], path: str) -> None:
  """The main metric of each model against each distortion family's strength (png/identity as a dashed line)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  families = sorted({distortions.get(d).family for r in results.values() for d in r["distortions"]} - {"png"})
  fig, axes = plt.subplots(1, max(1, len(families)), figsize=(3.2 * max(1, len(families)), 3.0), squeeze=False)
  for ax, family in zip(axes[0], families):
    for name, r in results.items():
      pts = sorted((distortions.get(d).strength, v[r["main_metric"]]) for d, v in r["distortions"].items()
                   if distortions.get(d).family == family)
      if pts:
        line = ax.plot(*zip(*pts), "o-", label=name)[0]
        clean = next((v[r["main_metric"]] for d, v in r["distortions"].items()
                      if distortions.get(d).family == "png"), None)
        if clean is not None:
          ax.axhline(clean, ls=":", color=line.get_color())
    ax.set_title(family)
    ax.set_xlabel("strength")
  axes[0][0].set_ylabel(" / ".join(sorted({r["main_metric"] for r in results.values()})))
  axes[0][-1].legend(fontsize=6)
  fig.tight_layout()
  with files.atomic_target(path) as tmp:
    fig.savefig(tmp, format="png", dpi=100)
  plt.close(fig)


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  task = setup.task
  opts = options(config)
  params = task_common.host_params(state["params"])
  key = None
  if isinstance(task, tasks.Keyed):
    from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
    key = task.key_for_use(config, params, pairs.ANALYSIS_PASSPHRASE if tasks.needs_passphrase(task, config)
                           else None)
  result = analyse(task, config, params, eval_set, opts, key)
  if jax.process_index() == 0:
    outdir = os.fspath(outdir)
    files.atomic_write(os.path.join(outdir, "robustness.json"), json.dumps(result, indent=2) + "\n")
    files.atomic_write(os.path.join(outdir, "robustness.md"), markdown(result, config.task))
    plot({config.task: result}, os.path.join(outdir, "robustness.png"))
  return {f"robust/{d}/{k}": v for d, vals in result["distortions"].items() for k, v in vals.items()}


def config_block(**overrides) -> ml_collections.ConfigDict:
  """An options block for `config.evals.robustness` (the defaults, with `overrides`)."""
  return ml_collections.ConfigDict(dict(DEFAULTS, **overrides))
