"""Classical embedders through conseal: change rates, the kind of change, boundaries, seeds."""

import numpy as np
import pytest

from jaxsteg import errors
from jaxsteg.attacks import embedders, pairs


@pytest.fixture(scope="module")
def covers():
  crops, _ = pairs.photo_crops("train", 6, 64, seed=0)
  return crops


@pytest.mark.parametrize("method", ["lsbr", "lsbm"])
@pytest.mark.parametrize("rate", [0.4, 1.0])
def test_lsb_embedders_change_half_the_payload(covers, method, rate):
  stego = embedders.embed(method, covers, rate, seed=1)
  assert stego.dtype == np.uint8 and stego.shape == covers.shape
  diff = stego.astype(int) - covers
  assert np.abs(diff).max() == 1
  # Each carrying value keeps its LSB with probability 1/2: rate/2 of the values change (±3 sigma of 73 728).
  assert abs(np.mean(diff != 0) - rate / 2) < 0.006
  if method == "lsbr":
    changed = diff != 0
    assert np.array_equal(stego[changed], covers[changed] ^ 1)     # Only LSB flips: 2k <-> 2k+1.
  else:
    assert 0.45 < np.mean(diff[diff != 0] > 0) < 0.55               # +1 and -1 equally often.


def test_lsb_matching_stays_in_range():
  extremes = np.concatenate([np.zeros((1, 32, 32, 3), np.uint8), np.full((1, 32, 32, 3), 255, np.uint8)])
  stego = embedders.embed("lsbm", extremes, 1.0, seed=0)
  assert np.all(stego[0] <= 1) and np.all(stego[1] >= 254)
  assert np.mean(stego != extremes) > 0.4


def test_hill_embeds_fewer_changes_in_texture(covers):
  stego = embedders.embed("hill", covers, 0.4, seed=2)
  diff = stego.astype(int) - covers
  assert stego.dtype == np.uint8 and np.abs(diff).max() == 1
  # Ternary coding at the payload bound needs fewer changes than LSB's rate/2 = 0.2.
  assert 0.01 < np.mean(diff != 0) < 0.2
  # Changes go where the texture is: the busier half of each image (local activity) takes most of them.
  from scipy import ndimage  # pylint: disable=g-import-not-at-top
  grey = covers.astype(float)
  kb = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], float).reshape(1, 3, 3, 1)
  activity = ndimage.uniform_filter(np.abs(ndimage.convolve(grey, kb, mode="reflect")), size=(1, 5, 5, 1))
  busy = activity > np.median(activity, axis=(1, 2), keepdims=True)
  assert np.mean(diff[busy] != 0) > 2 * np.mean(diff[~busy] != 0)


@pytest.mark.parametrize("method", embedders.METHODS)
def test_seeds_reproduce_and_rate_zero_is_the_cover(covers, method):
  a = embedders.embed(method, covers[:2], 0.4, seed=3)
  assert np.array_equal(a, embedders.embed(method, covers[:2], 0.4, seed=3))
  assert not np.array_equal(a, embedders.embed(method, covers[:2], 0.4, seed=4))
  assert np.array_equal(embedders.embed(method, covers[:2], 0.0, seed=3), covers[:2])
  # Image i depends only on the seed and i, not on the batch it is embedded in.
  assert np.array_equal(a[:1], embedders.embed(method, covers[:1], 0.4, seed=3))


def test_bad_arguments_are_refused(covers):
  with pytest.raises(errors.ConfigError, match="lsbr, lsbm, hill"):
    embedders.embed("wow", covers, 0.4)
  with pytest.raises(errors.ConfigError, match="rate"):
    embedders.embed("lsbr", covers, 1.5)
  with pytest.raises(ValueError, match="uint8"):
    embedders.embed("lsbr", covers.astype(np.float32), 0.4)
