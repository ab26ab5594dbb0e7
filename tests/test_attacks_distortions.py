"""Real distortions: what each does to a flat image and a photograph, seeds, shapes, and spec errors."""

import numpy as np
import pytest

from jaxsteg import errors
from jaxsteg.attacks import distortions, pairs


@pytest.fixture(scope="module")
def photos():
  crops, _ = pairs.photo_crops("test", 4, 64, seed=0)
  return crops


def psnr(a, b):
  mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
  return 10 * np.log10(255.0 ** 2 / mse)


def test_the_default_suite_is_the_design_set_in_order():
  names = [d.name for d in distortions.suite()]
  assert names == ["jpeg:95", "jpeg:90", "jpeg:75", "jpeg:50", "noise:1", "noise:2", "noise:5", "resize:0.5",
                   "blur:1", "crop:0.9", "png"]
  d = distortions.get("JPEG:90")
  assert (d.name, d.family, d.strength) == ("jpeg:90", "jpeg", 90)
  assert distortions.get("png").strength is None
  assert set(distortions.families()) == {"jpeg", "noise", "resize", "blur", "crop", "png"}


@pytest.mark.parametrize("spec, message", [
    ("gamma:2", "known families: jpeg:QUALITY, noise:SIGMA"),
    ("jpeg", "needs its quality"),
    ("jpeg:abc", "must be a number"),
    ("jpeg:101", "integer in 1..100"),
    ("jpeg:90.5", "integer in 1..100"),
    ("noise:-1", "a number > 0"),
    ("resize:2", "<= 1"),
    ("png:3", "takes no strength"),
])
def test_a_bad_spec_is_a_config_error_that_says_what_is_known(spec, message):
  with pytest.raises(errors.ConfigError, match=message):
    distortions.get(spec)


def test_jpeg_keeps_a_flat_image_flat_and_grey_images_work():
  flat = np.full((2, 32, 48, 3), 117, np.uint8)
  for q in (95, 50):
    out = distortions.get(f"jpeg:{q}").apply(flat)
    assert np.abs(out.astype(int) - 117).max() <= 1
  grey = np.full((1, 32, 32, 1), 80, np.uint8)
  assert np.abs(distortions.get("jpeg:75").apply(grey).astype(int) - 80).max() <= 1


def test_jpeg_quality_orders_the_damage_on_photographs(photos):
  q95 = distortions.get("jpeg:95").apply(photos)
  q50 = distortions.get("jpeg:50").apply(photos)
  assert psnr(photos, q95) > 35
  assert psnr(photos, q95) > psnr(photos, q50) + 3
  assert not np.array_equal(q95, q50)
  grey = distortions.get("jpeg:90").apply(photos[..., :1])
  assert grey.shape == photos[..., :1].shape and psnr(photos[..., :1], grey) > 30


@pytest.mark.parametrize("sigma", [1, 2, 5])
def test_noise_has_the_asked_standard_deviation(sigma):
  grey = np.full((4, 64, 64, 3), 128, np.uint8)
  out = distortions.get(f"noise:{sigma}").apply(grey, seed=3)
  measured = np.std(out.astype(np.float64) - 128)
  # Rounding to integers adds variance 1/12 (4 % of the std at sigma 1); mid-grey keeps clipping away.
  assert abs(measured - sigma) < 0.1 * sigma


def test_seeds_reproduce_and_differ(photos):
  noisy = distortions.get("noise:2")
  assert np.array_equal(noisy.apply(photos, seed=5), noisy.apply(photos, seed=5))
  assert not np.array_equal(noisy.apply(photos, seed=5), noisy.apply(photos, seed=6))
  for spec in ("jpeg:75", "resize:0.5", "blur:1", "crop:0.9"):
    d = distortions.get(spec)
    assert np.array_equal(d.apply(photos, seed=1), d.apply(photos, seed=2)), spec


def test_png_is_exact_and_the_others_keep_shape_and_dtype(photos):
  assert np.array_equal(distortions.get("png").apply(photos), photos)
  assert np.array_equal(distortions.get("png").apply(photos[..., :1]), photos[..., :1])
  odd = photos[:2, :63, :50]
  for d in distortions.suite():
    out = d.apply(odd, seed=0)
    assert out.shape == odd.shape and out.dtype == np.uint8, d.name
  for spec in ("resize:0.5", "blur:1", "crop:0.9"):
    out = distortions.get(spec).apply(photos)
    assert 20 < psnr(photos, out) < 60, spec


def test_blur_and_crop_do_what_they_say():
  ramp = np.tile(np.arange(64, dtype=np.uint8)[None, :, None] * 4, (64, 1, 1))[None]
  # A linear ramp is a fixed point of a symmetric blur away from the edges.
  blurred = distortions.get("blur:1").apply(ramp)
  assert np.abs(blurred[0, :, 8:-8].astype(int) - ramp[0, :, 8:-8]).max() <= 1
  # Cropping 90 % and resizing back stretches the ramp about the centre: the centre column stays.
  cropped = distortions.get("crop:0.9").apply(ramp)
  assert abs(int(cropped[0, 32, 32, 0]) - int(ramp[0, 32, 32, 0])) <= 4
  assert cropped[0, 32, 1, 0] > ramp[0, 32, 1, 0]


def test_non_uint8_images_are_refused():
  with pytest.raises(ValueError, match="uint8 images"):
    distortions.get("png").apply(np.zeros((1, 8, 8, 3), np.float32))
