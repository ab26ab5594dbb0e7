"""Classifiers for steganalysis features: `make_detector(name, seed)` -> fit(X, y) / decision_function / predict.

Labels y: 0 cover, 1 container; `decision_function` is positive for a container, `predict` thresholds it at 0.

  logreg        scikit-learn: StandardScaler, then L2-regularised LogisticRegression (lbfgs) with C = 0.1, fixed.
                With ~2 000 training images and 2 058 (SPAM, RGB) to 12 753 (SRMQ1) standardised features the
                problem is under-determined. On a validation split of the training photographs (6 of the 8 to
                fit, 2 to score; SPAM, LSB matching at 0.4 bpp, 64×64 crops) C = 0.01, 0.1, 1, 10 gave 64.3,
                63.4, 62.6, 62.4 % accuracy: flat, 0.1 kept as a middle value.
  fld_ensemble  the ensemble classifier of Kodovský, Fridrich & Holub ("Ensemble classifiers for steganalysis of
                digital media", IEEE TIFS 7(2), 2012): L Fisher linear discriminants, each on a random subspace
                of d_sub features and a bootstrap sample of the training set, fused by majority vote.
                decision_function is the mean vote in [−1, 1] (each learner votes sign(w·x − b)), so it is > 0
                exactly when the majority says container. Per base learner, as in the reference code
                (ensemble_training.m, DDE Lab): w = (Σ_cover + Σ_container + λI)⁻¹ (μ_container − μ_cover) on
                standardised features with a small ridge λ = 1e-4 · mean(diag Σ) (the reference adds 1e-10 and
                more only when the solve is singular), b the threshold minimising the training error P_FA + P_MD
                (the sign of w flipped if that is better). L is chosen by the reference's out-of-bag (OOB)
                saturation rule: at least 25 learners, stop when the moving average (window 5) of the OOB error
                over the last 50 learners varies by less than 0.005, at most `max_learners` (50 here, for the CPU
                budget; the reference allows 500). d_sub is chosen by a simplified version of the reference's OOB search:
                candidates step · {1, 2, 3}, step = min(200, top / 4), extended by one step to the right while the
                rightmost candidate is the best, then one refinement at the best ± step / 2, every candidate at
                most top = min(d, n) (n the smaller class's training count: beyond it each base learner's
                covariance is singular and only the ridge defines it; the reference searches up to d); the
                ensemble of the candidate with the lowest OOB error is kept (the reference keeps halving the
                step until the OOB error stops improving by 2 %). Bootstrap samples are drawn per class (fit is
                not told which container belongs to which cover; the reference resamples cover/stego pairs).
                The OOB error is optimistic when training crops overlap (random crops of few photographs):
                it only ranks the candidates, held-out photographs give the real error.
                numpy only; seeded and deterministic.

Both run with BLAS on one thread (`OneThread`, which `make_detector` returns).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxsteg import errors

NAMES = ("logreg", "fld_ensemble")
LOGREG_C = 0.1


def make_detector(name: str, seed: int = 0):
  """A fresh, unfitted classifier `name` (one of NAMES), seeded."""
  if name == "logreg":
    from sklearn import linear_model, pipeline, preprocessing  # pylint: disable=g-import-not-at-top
    return OneThread(pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear_model.LogisticRegression(C=LOGREG_C, max_iter=2000,
                                                                        random_state=seed)))
  if name == "fld_ensemble":
    return OneThread(FLDEnsemble(seed=seed))
  raise errors.ConfigError(f"unknown classifier {name!r}; use one of {', '.join(NAMES)}")


class OneThread:
  """A classifier whose fit and decision_function run with BLAS limited to one thread (threadpoolctl, a
  scikit-learn dependency): the problems here are small (≤ a few thousand images), and threaded BLAS on a busy
  2-core machine made them 10-30× slower (lbfgs on 128 × 12753 SRMQ1 features: 41 s threaded, 1.3 s on one).
  `estimator` is the wrapped classifier."""

  def __init__(self, estimator):
    self.estimator = estimator

  def fit(self, x, y) -> OneThread:
    import threadpoolctl  # pylint: disable=g-import-not-at-top
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
      self.estimator.fit(x, y)
    return self

  def decision_function(self, x) -> np.ndarray:
    import threadpoolctl  # pylint: disable=g-import-not-at-top
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
      return np.asarray(self.estimator.decision_function(x), np.float64)

  def predict(self, x) -> np.ndarray:
    return (self.decision_function(x) > 0).astype(np.int64)


@dataclasses.dataclass
class _Learner:
  subspace: np.ndarray
  w: np.ndarray
  b: float

  def votes(self, x: np.ndarray) -> np.ndarray:
    return np.sign(x[:, self.subspace] @ self.w - self.b)


def _threshold(cover: np.ndarray, container: np.ndarray) -> tuple[float, float]:
  """(sign, threshold) minimising the training errors FA + MD of 'container when sign · p > threshold'."""
  p = np.concatenate([cover, container])
  order = np.argsort(p, kind="stable")
  p, is_cover = p[order], np.concatenate([np.ones(len(cover)), np.zeros(len(container))])[order]
  # Threshold between sorted positions i and i+1: below it everything is called cover.
  fa = len(cover) - np.cumsum(is_cover)[:-1]        # covers above
  md = np.cumsum(1.0 - is_cover)[:-1]               # containers below
  err = fa / len(cover) + md / len(container)
  i_pos, i_neg = int(np.argmin(err)), int(np.argmax(err))
  if 2.0 - err[i_neg] < err[i_pos]:                 # 'container when below' is better: flip the sign.
    return -1.0, -0.5 * (p[i_neg] + p[i_neg + 1])
  return 1.0, 0.5 * (p[i_pos] + p[i_pos + 1])


class FLDEnsemble:
  """Kodovský's ensemble of Fisher linear discriminants on random subspaces (see the module docstring)."""

  def __init__(self, seed: int = 0, d_sub: int | None = None, num_learners: int | None = None,
               max_learners: int = 50, ridge: float = 1e-4):
    self.seed, self.d_sub, self.num_learners, self.max_learners, self.ridge = (seed, d_sub, num_learners,
                                                                               max_learners, ridge)
    self.learners: list[_Learner] = []
    self.search: dict[int, float] = {}          # d_sub -> OOB error of its ensemble.

  # -- training --------------------------------------------------------------------------------------------
  def _train_one(self, rng, xc: np.ndarray, xs: np.ndarray, d_sub: int) -> tuple[_Learner, np.ndarray, np.ndarray]:
    sub = np.sort(rng.choice(xc.shape[1], d_sub, replace=False))
    bc, bs = rng.integers(0, len(xc), len(xc)), rng.integers(0, len(xs), len(xs))
    mc, ms = xc[np.ix_(bc, sub)], xs[np.ix_(bs, sub)]
    mu_c, mu_s = mc.mean(0), ms.mean(0)
    mc, ms = mc - mu_c, ms - mu_s
    sigma = (mc.T @ mc) / len(mc) + (ms.T @ ms) / len(ms)
    sigma[np.diag_indices_from(sigma)] += self.ridge * max(float(np.mean(np.diag(sigma))), 1e-12)
    w = np.linalg.solve(sigma, mu_s - mu_c)
    sign, b = _threshold((mc + mu_c) @ w, (ms + mu_s) @ w)
    learner = _Learner(sub, sign * w, b)
    oob_c = np.setdiff1d(np.arange(len(xc)), bc)
    oob_s = np.setdiff1d(np.arange(len(xs)), bs)
    return learner, oob_c, oob_s

  def _train(self, xc: np.ndarray, xs: np.ndarray, d_sub: int) -> tuple[list[_Learner], float]:
    """An ensemble at one d_sub and its final OOB error (L fixed, or by the OOB saturation rule)."""
    rng = np.random.default_rng([self.seed, d_sub])
    votes_c, votes_s = np.zeros(len(xc)), np.zeros(len(xs))
    seen_c, seen_s = np.zeros(len(xc), bool), np.zeros(len(xs), bool)
    learners, history = [], []
    limit = self.num_learners or self.max_learners
    while len(learners) < limit:
      learner, oob_c, oob_s = self._train_one(rng, xc, xs, d_sub)
      learners.append(learner)
      votes_c[oob_c] += learner.votes(xc[oob_c])
      votes_s[oob_s] += learner.votes(xs[oob_s])
      seen_c[oob_c], seen_s[oob_s] = True, True
      # Majority vote of the learners each sample was out of bag for; a tie (or no vote yet) is half an error.
      err = (np.sum((votes_c > 0) + 0.5 * (votes_c == 0)) + np.sum((votes_s < 0) + 0.5 * (votes_s == 0)))
      history.append(err / (len(xc) + len(xs)))
      if self.num_learners is None and len(history) >= 25:
        smooth = np.convolve(history[-50:], np.ones(5) / 5, mode="valid")
        if smooth.max() - smooth.min() < 0.005:
          break
    return learners, history[-1]

  def fit(self, x, y) -> FLDEnsemble:
    x, y = np.asarray(x, np.float64), np.asarray(y)
    if x.ndim != 2 or len(x) != len(y) or not (np.any(y == 0) and np.any(y == 1)):
      raise ValueError(f"fit takes features (N, D) and labels (N,) with both classes, got {x.shape}, {y.shape}")
    self.mean_ = x.mean(0)
    self.scale_ = x.std(0)
    self.scale_[self.scale_ == 0] = 1.0
    x = (x - self.mean_) / self.scale_
    xc, xs = x[y == 0], x[y == 1]
    d = x.shape[1]
    if self.d_sub is not None:
      self.learners, oob = self._train(xc, xs, min(self.d_sub, d))
      self.search, self.d_sub_ = {min(self.d_sub, d): oob}, min(self.d_sub, d)
      return self
    top = min(d, max(4, min(len(xc), len(xs))))
    step = max(1, min(200, top // 4))
    results: dict[int, tuple[list[_Learner], float]] = {}

    def evaluate(k: int) -> None:
      if 1 <= k <= top and k not in results:
        results[k] = self._train(xc, xs, k)

    for k in (step, 2 * step, 3 * step):
      evaluate(k)
    while True:
      best = min(results, key=lambda k: results[k][1])
      if best != max(results) or best + step > top:
        break
      evaluate(best + step)
    best = min(results, key=lambda k: results[k][1])
    for k in (best - step // 2, best + step // 2):
      evaluate(k)
    self.d_sub_ = min(results, key=lambda k: (results[k][1], k))
    self.learners = results[self.d_sub_][0]
    self.search = {k: v[1] for k, v in sorted(results.items())}
    return self

  # -- inference -------------------------------------------------------------------------------------------
  def decision_function(self, x) -> np.ndarray:
    if not self.learners:
      raise ValueError("FLDEnsemble is not fitted")
    x = (np.asarray(x, np.float64) - self.mean_) / self.scale_
    return np.mean([learner.votes(x) for learner in self.learners], axis=0)

  def predict(self, x) -> np.ndarray:
    return (self.decision_function(x) > 0).astype(np.int64)
