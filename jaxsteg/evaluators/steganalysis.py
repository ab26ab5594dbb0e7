"""Classical steganalysis of a hiding model: can a detector tell its containers from covers?

Pairs come from `jaxsteg.attacks.pairs`: detectors train on (cover, container) pairs of crops of the TRAINING
photographs and are scored on the fixed held-out pairs (the held-out photographs' grid of crops), split by
photograph, never by crop. Detectors, named `<features>+<classifier>` or a structural attack:
  <features>+<classifier>   features from `attacks.features` (spam: SPAM 686-d per channel, 2058-d for RGB;
        spam_pooled: SPAM counted over the channels together, 686-d; srmq1: SRM at q = 1, 12753-d; srm: the full
        SRM, 34671-d) and a classifier from `attacks.ensemble` (logreg: logistic regression; fld_ensemble:
        Kodovský's FLD ensemble), e.g. spam+logreg, srmq1+fld_ensemble
  spa, rs, ws   structural LSB attacks (`attacks.structural`): the estimated LSB replacement rate is the score;
        the threshold is the one that classifies the training pairs best
Each gets accuracy at its own threshold, AUC and P_E with 95 % bootstrap intervals (`attacks.detection`) and
its accuracy on each held-out photograph (`accuracy_by_photo`: one textured photograph can sit at chance); the
first feature detector is also trained on fewer pairs (`curve`), HiNet's "accuracy against the number of
training pairs". Files: steganalysis.json. Metrics: 'steg/<detector>/<accuracy|auc|p_e>'.

The default detectors fit the benchmark's CPU budget: with 1000 training and 142 held-out pairs of 64×64 RGB
crops (no curve) they took 18.6 s of CPU per source, pair making included (108-118 s wall on the shared 2-core
machine at a load average of 15; RS is the slowest). SRMQ1 features take 25-65 ms per crop there and
srmq1+fld_ensemble 70-170 s wall per source, so srmq1 / srm detectors are opt-in
(`benchmarks/steganalysis_calibration.py` measures them all).

Options (`config.evals.steganalysis`): detectors, train_pairs, curve, size (crop side), seed.
"""

from __future__ import annotations

import json
import os
import time

import jax
import ml_collections
import numpy as np

from jaxsteg import errors, files
from jaxsteg.evaluators import common
from jaxsteg.tasks import common as task_common

CAPABILITY = None   # Any model pairs.ModelSource accepts (ImageHider, BitChannel, DomainCipher).
DEFAULTS = {"detectors": ("spam+logreg", "spam_pooled+fld_ensemble", "spa", "rs", "ws"),
            "train_pairs": 1000, "curve": (125, 250, 500), "size": 64, "seed": 0}
STRUCTURAL = ("spa", "rs", "ws")


def options(config) -> dict:
  opts = dict(DEFAULTS)
  opts.update({k: v for k, v in common.options(config, "steganalysis").to_dict().items() if k != "enabled"})
  opts["detectors"], opts["curve"] = tuple(opts["detectors"]), tuple(opts["curve"])
  return opts


def parse(detector: str) -> tuple[str, str | None]:
  """'spam+logreg' -> ('spam', 'logreg'); 'spa' -> ('spa', None)."""
  from jaxsteg.attacks import ensemble, features  # pylint: disable=g-import-not-at-top
  if detector in STRUCTURAL:
    return detector, None
  feats, sep, clf = detector.partition("+")
  if not sep or feats not in features.NAMES or clf not in ensemble.NAMES:
    raise errors.ConfigError(f"unknown detector {detector!r}: use <features>+<classifier> with features one of "
                             f"{', '.join(features.NAMES)} and classifier one of {', '.join(ensemble.NAMES)} "
                             f"(e.g. spam+logreg), or one of {', '.join(STRUCTURAL)}")
  return feats, clf


def check(config) -> None:
  for d in options(config)["detectors"]:
    parse(d)


def _features(name: str, images: np.ndarray) -> np.ndarray:
  from jaxsteg.attacks import features  # pylint: disable=g-import-not-at-top
  return features.extract(name, images)


def _structural(name: str, images: np.ndarray) -> np.ndarray:
  from jaxsteg.attacks import structural  # pylint: disable=g-import-not-at-top
  fn = getattr(structural, name)
  return np.asarray([fn(img) for img in images], np.float64)


def _best_threshold(cover: np.ndarray, container: np.ndarray) -> float:
  """The threshold (container when score > t) with the highest accuracy on training pairs."""
  candidates = np.unique(np.concatenate([cover, container]))
  accs = [np.mean(np.concatenate([cover <= t, container > t])) for t in candidates]
  return float(candidates[int(np.argmax(accs))])


def _fit_score(clf_name: str, seed: int, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]):
  from jaxsteg.attacks import ensemble  # pylint: disable=g-import-not-at-top
  (tr_c, tr_s), (te_c, te_s) = train, test
  clf = ensemble.make_detector(clf_name, seed=seed)
  clf.fit(np.concatenate([tr_c, tr_s]), np.concatenate([np.zeros(len(tr_c)), np.ones(len(tr_s))]))
  return np.asarray(clf.decision_function(te_c)), np.asarray(clf.decision_function(te_s))


def analyse(source, opts: dict, train=None, test=None) -> dict:
  """Every detector of `opts` against `source` (a `pairs.Source`). Returns the report dict. `train`, `test`:
  the source's pairs when the caller has made them already (the first `train_pairs` training pairs are used),
  else they are made here."""
  from jaxsteg.attacks import detection  # pylint: disable=g-import-not-at-top
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  t0 = time.time()
  n = int(opts["train_pairs"])
  if train is None:
    train = source.pairs("train", n, seed=int(opts["seed"]))
  train = pairs.Pairs(train.covers[:n], train.containers[:n], train.groups[:n])
  test = source.pairs("test", None, seed=int(opts["seed"])) if test is None else test
  out = {"source": source.name, "train_pairs": len(train.covers), "test_pairs": len(test.covers),
         "size": int(test.covers.shape[1]), "detectors": {}, "curve": {}, "roc": {}}
  cache: dict[str, tuple] = {}
  for det in opts["detectors"]:
    t = time.time()
    feats, clf = parse(det)
    if clf is None:
      tr = (_structural(feats, train.covers), _structural(feats, train.containers))
      te = (_structural(feats, test.covers), _structural(feats, test.containers))
      threshold = _best_threshold(*tr)
      scores = te
    else:
      if feats not in cache:
        cache[feats] = ((_features(feats, train.covers), _features(feats, train.containers)),
                        (_features(feats, test.covers), _features(feats, test.containers)))
      tr, te = cache[feats]
      scores, threshold = _fit_score(clf, int(opts["seed"]), tr, te), 0.0
    summary = detection.summarize(*scores, threshold=threshold, seed=int(opts["seed"]))
    summary["accuracy_by_photo"] = {
        source.group_name(g): detection.accuracy(scores[0][test.groups == g], scores[1][test.groups == g],
                                                 threshold) for g in np.unique(test.groups)}
    summary["seconds"] = time.time() - t
    out["detectors"][det] = summary
    fa, dr = detection.roc(*scores)
    out["roc"][det] = {"false_alarm": fa.tolist(), "detection": dr.tolist()}
  first = next((d for d in opts["detectors"] if parse(d)[1] is not None), None)
  if first is not None:
    feats, clf = parse(first)
    tr, te = cache[feats]
    for n in opts["curve"]:
      if n < len(train.covers):
        scores = _fit_score(clf, int(opts["seed"]), (tr[0][:n], tr[1][:n]), te)
        out["curve"][str(n)] = detection.summarize(*scores, num_bootstrap=200, seed=int(opts["seed"]))
    out["curve"][str(len(train.covers))] = out["detectors"][first]
    out["curve_detector"] = first
  best = max(out["detectors"], key=lambda d: out["detectors"][d]["accuracy"])
  out["best"] = {"detector": best, **{k: out["detectors"][best][k] for k in ("accuracy", "auc", "p_e")}}
  out["seconds"] = time.time() - t0
  return out


def run(config, setup, state, eval_set, outdir) -> dict[str, float]:
  del eval_set
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  opts = options(config)
  source = pairs.ModelSource(setup.task, config, task_common.host_params(state["params"]), name=config.task,
                             step=common.step_of(state), size=int(opts["size"]))
  result = analyse(source, opts)
  if jax.process_index() == 0:
    files.atomic_write(os.path.join(os.fspath(outdir), "steganalysis.json"), json.dumps(result, indent=2) + "\n")
  return {f"steg/{d}/{k}": v[k] for d, v in result["detectors"].items() for k in ("accuracy", "auc", "p_e")}


def config_block(**overrides) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict(dict(DEFAULTS, **overrides))
