"""Rich-model features (SPAM, SRM) and their classifiers (logistic regression, FLD ensemble)."""

import numpy as np
import pytest

from jaxsteg import errors
from jaxsteg.attacks import ensemble, features, pairs


def _synthetic() -> np.ndarray:
  """A 20×20 grey image (gradient + noise) whose reference features are known."""
  rng = np.random.default_rng(7)
  return ((np.add.outer(np.arange(20) * 5, np.arange(20) * 3) + rng.integers(0, 12, (20, 20))) % 256).astype(np.uint8)


def _images(n=3, size=24, channels=3, seed=0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  smooth = np.add.outer(np.arange(size), np.arange(size))[None, :, :, None] * 4
  return np.clip(smooth + rng.integers(-6, 7, (n, size, size, channels)) + 60, 0, 255).astype(np.uint8)


# (submodel, dim, Σ_i f_i · i / dim, max f) of the DDE Lab's SRM.m on `_synthetic()`, computed with sealwatch 2025.9
# (the University of Innsbruck's port, python backend), which stores single precision.
REFERENCE = (("s1_minmax22h_q1", 325, 0.51670654, 0.69999999), ("s1_spam14hv_q2", 338, 1.47247424, 0.30000001),
             ("s2_spam12hv_q15", 338, 1.85123820, 0.20740741), ("s2_minmax24v_q1", 325, 1.15088889, 0.36296296),
             ("s3_minmax54_q2", 325, 0.54675667, 0.59615386), ("s3x3_minmax24_q1", 325, 1.30783476, 0.47777778),
             ("s5x5_minmax41_q15", 325, 0.78531067, 0.56250000), ("s35_spam11_q2", 338, 2.05350535, 0.40865386))
SPAM_REFERENCE = (1.000328871044216, 0.14705882352941177)   # the same statistics of spam686.m's 686-d vector


def _blocks(name, image):
  f = features.extract(name, image[None, :, :, None])[0]
  out, start = {}, 0
  for sub, dim in features.srm_layout(name):
    out[sub] = f[start:start + dim]
    start += dim
  assert start == len(f)
  return out


def test_dimensions_and_names():
  assert features.NAMES == ("spam", "spam_pooled", "srmq1", "srm")
  assert features.extract("spam", _images(2)).shape == (2, 2058)
  assert features.extract("spam_pooled", _images(2)).shape == (2, 686)
  assert features.extract("spam", _images(2, channels=1)).shape == (2, 686)
  layout = features.srm_layout("srm")
  assert len(layout) == 106 and sum(d for _, d in layout) == 34671 == features.dimension("srm")
  assert len(features.srm_layout("srmq1")) == 39 and features.dimension("srmq1") == 12753
  assert features.extract("srmq1", _images(2)).shape == (2, 12753)           # Colour: pooled, one channel's size.
  assert features.extract("srmq1", _images(1, channels=1)).shape == (1, 12753)


def test_srm_matches_the_reference_implementation():
  blocks = _blocks("srm", _synthetic())
  for sub, dim, weighted, peak in REFERENCE:
    v = blocks[sub]
    assert len(v) == dim
    np.testing.assert_allclose([v @ (np.arange(1, dim + 1) / dim), v.max()], [weighted, peak], rtol=1e-6)
  q1 = _blocks("srmq1", _synthetic())
  for sub, v in q1.items():                                                   # srmq1 is srm's q = 1 part.
    np.testing.assert_array_equal(v, blocks[sub])
  v = features.extract("spam", _synthetic()[None, :, :, None])[0]
  np.testing.assert_allclose([v @ (np.arange(1, 687) / 686), v.max()], SPAM_REFERENCE, rtol=1e-12)


def test_features_are_deterministic_finite_and_normalised():
  images = _images(3)
  for name in features.NAMES[:3]:
    f = features.extract(name, images)
    np.testing.assert_array_equal(f, features.extract(name, images, chunk=2))  # Chunking changes nothing.
    assert np.isfinite(f).all() and (f >= 0).all()
  spam = features.extract("spam", images).reshape(3, 3, 2, 343)
  np.testing.assert_allclose(spam.sum(-1), 1.0)                                # Each group is a distribution.


def test_spam_is_invariant_to_flips_and_transposition_srm_to_negation():
  images = _images(2, size=20)
  f = features.extract("spam", images)
  for t in (images[:, :, ::-1], images[:, ::-1], np.swapaxes(images, 1, 2)):
    np.testing.assert_allclose(features.extract("spam", np.ascontiguousarray(t)), f, atol=1e-12)
  grey = images[..., :1]
  np.testing.assert_allclose(features.extract("srmq1", 255 - grey), features.extract("srmq1", grey), atol=1e-12)


def test_bad_inputs():
  with pytest.raises(errors.ConfigError, match="unknown feature set"):
    features.extract("lbp", _images(1))
  with pytest.raises(ValueError, match="uint8"):
    features.extract("spam", _images(1).astype(np.float32))
  with pytest.raises(errors.ConfigError, match="unknown classifier 'svm'"):
    ensemble.make_detector("svm", seed=0)


@pytest.mark.parametrize("feature,size,n", [("spam", 64, 200), ("spam_pooled", 64, 200), ("srmq1", 32, 150),
                                                  ("srm", 32, 100)])
def test_every_classifier_separates_lsb_replacement(feature, size, n):
  src = pairs.source("lsbr:1.0", size=size)
  train, test = src.pairs("train", n, seed=0), src.pairs("test", 40, seed=1)   # Test: held-out photographs.
  x = np.concatenate([features.extract(feature, train.covers), features.extract(feature, train.containers)])
  y = np.repeat([0, 1], n)
  xt_c, xt_s = features.extract(feature, test.covers), features.extract(feature, test.containers)
  for name in ensemble.NAMES:
    clf = ensemble.make_detector(name, seed=0).fit(x, y)
    acc = np.mean(np.concatenate([clf.predict(xt_c) == 0, clf.predict(xt_s) == 1]))
    assert acc > 0.7, (feature, name, acc)          # Chance is 0.5 ± 0.056 on these 80 images; measured 0.76-0.85.
    scores = np.concatenate([clf.decision_function(xt_c), clf.decision_function(xt_s)])
    np.testing.assert_array_equal(clf.predict(xt_s), (clf.decision_function(xt_s) > 0).astype(int))
    again = ensemble.make_detector(name, seed=0).fit(x, y)
    np.testing.assert_array_equal(np.concatenate([again.decision_function(xt_c), again.decision_function(xt_s)]),
                                  scores)                                      # Seeded: the same detector.


def test_fld_ensemble_searches_the_subspace_dimension():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(200, 40))
  y = np.repeat([0, 1], 100)
  x[y == 1, :5] += 0.8                                                        # Only 5 informative features.
  clf = ensemble.make_detector("fld_ensemble", seed=3).fit(x, y).estimator
  assert len(clf.search) >= 3 and clf.d_sub_ in clf.search and 25 <= len(clf.learners) <= clf.max_learners
  assert clf.search[clf.d_sub_] == min(clf.search.values()) < 0.3
  fixed = ensemble.FLDEnsemble(seed=3, d_sub=10, num_learners=7).fit(x, y)
  assert len(fixed.learners) == 7 and set(np.unique(fixed.decision_function(x) * 7).round()) <= set(range(-7, 8))
