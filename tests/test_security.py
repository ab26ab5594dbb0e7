"""Security statistics against hand-computed small cases, the analysis on fake models, and the report files."""

import json
import math
import os

import numpy as np
import pytest

from jaxsteg.evaluators import security
from jaxsteg.evaluators import security_report
from jaxsteg.evaluators import stats


def _img(values, shape=None):
  a = np.asarray(values, np.uint8)
  return a.reshape(shape) if shape else a


def test_histograms_count_each_value_per_channel():
  img = _img([[0, 0], [1, 255]], (2, 2, 1))
  h = stats.histograms(img)
  assert h.shape == (1, 256)
  assert h[0, 0] == 2 and h[0, 1] == 1 and h[0, 255] == 1 and h.sum() == 4


def test_chi_square_uniform_hand_cases():
  # Every value once: observed = expected = 1 in every bin.
  assert stats.chi_square_uniform(np.arange(256, dtype=np.uint8).reshape(16, 16, 1)) == pytest.approx(0.0)
  # 2x2 zeros: e = 4/256; bin 0: (4 − 1/64)²·64 = 1016.015625, 255 other bins: 1/64 each -> 1020 = 4·255.
  assert stats.chi_square_uniform(np.zeros((2, 2, 1), np.uint8)) == pytest.approx(1020.0)
  # Channels are averaged: one uniform channel (0) and one constant 16x16 channel (256·255).
  two = np.stack([np.arange(256).reshape(16, 16), np.zeros((16, 16))], -1).astype(np.uint8)
  assert stats.chi_square_uniform(two) == pytest.approx(256 * 255 / 2)


def test_chi_square_two_sample_hand_case():
  a = _img([0, 0, 1, 1], (2, 2, 1))
  b = _img([0, 1, 1, 1], (2, 2, 1))
  # bin 0: (2 − 1)²/3; bin 1: (2 − 3)²/5.
  assert stats.chi_square_two_sample(a, b) == pytest.approx(1 / 3 + 1 / 5)
  assert stats.chi_square_two_sample(a, a) == 0.0


def test_entropy_hand_cases():
  assert stats.entropy(np.zeros((4, 4, 3), np.uint8)) == 0.0
  assert stats.entropy(_img([0, 255, 0, 255], (2, 2, 1))) == pytest.approx(1.0)
  assert stats.entropy(_img([0, 1, 2, 3], (2, 2, 1))) == pytest.approx(2.0)
  assert stats.entropy(np.arange(256, dtype=np.uint8).reshape(16, 16, 1)) == pytest.approx(8.0)
  # p = (3/4, 1/4): −(¾ log2 ¾ + ¼ log2 ¼) = 0.811278...
  assert stats.entropy(_img([7, 7, 7, 9], (2, 2, 1))) == pytest.approx(0.8112781244591328)


def test_adjacent_correlation_hand_cases():
  rng = np.random.default_rng(0)
  checker = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)[..., None]
  assert stats.adjacent_correlation(checker, "horizontal", 3000, rng) == pytest.approx(-1.0)
  assert stats.adjacent_correlation(checker, "vertical", 3000, rng) == pytest.approx(-1.0)
  assert stats.adjacent_correlation(checker, "diagonal", 3000, rng) == pytest.approx(1.0)
  ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))[..., None]   # value = 4x
  assert stats.adjacent_correlation(ramp, "horizontal", 3000, rng) == pytest.approx(1.0)
  assert stats.adjacent_correlation(ramp, "vertical", 3000, rng) == pytest.approx(1.0)  # Equal neighbours.
  assert math.isnan(stats.adjacent_correlation(np.zeros((4, 4, 1), np.uint8), "horizontal", 3000, rng))
  noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
  assert abs(stats.adjacent_correlation(noise, "diagonal", 3000, rng)) < 0.06


def test_magnitude_correlation_sees_a_sign_scrambled_copy():
  # Hand case: deviations from 5 of (−2, 2, −1, 1) twice; b flips the second half: Σ d·fd = 0, so r = 0,
  # while |a − 5| = |b − 5| exactly.
  a = np.array([3.0, 7.0, 4.0, 6.0, 3.0, 7.0, 4.0, 6.0])
  b = np.array([3.0, 7.0, 4.0, 6.0, 7.0, 3.0, 6.0, 4.0])
  assert stats.pearson(a, b) == pytest.approx(0.0)
  assert stats.magnitude_correlation(a, b) == pytest.approx(1.0)


def test_adjacent_pairs_use_the_rng_and_stay_in_bounds():
  img = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
  a = stats.adjacent_pairs(img, "diagonal", 3000, np.random.default_rng(3))
  b = stats.adjacent_pairs(img, "diagonal", 3000, np.random.default_rng(3))
  np.testing.assert_array_equal(a[0], b[0])
  assert len(a[0]) == 3000


def test_pearson_hand_case():
  assert stats.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
  assert stats.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
  assert stats.pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
  assert math.isnan(stats.pearson([1, 1, 1], [1, 2, 3]))


def test_npcr_uaci_hand_cases():
  a = _img([0, 1, 2, 3], (2, 2, 1))
  b = _img([0, 1, 2, 4], (2, 2, 1))
  assert stats.npcr(a, b) == pytest.approx(25.0)
  assert stats.uaci(a, b) == pytest.approx(100.0 * (1 / 255) / 4)
  z, f = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 255, np.uint8)
  assert stats.npcr(z, f) == 100.0 and stats.uaci(z, f) == 100.0
  assert stats.npcr(a, a) == 0.0 and stats.uaci(a, a) == 0.0


def test_ideal_values_are_those_of_independent_uniform_bytes():
  x, y = np.meshgrid(np.arange(256), np.arange(256))
  assert stats.IDEAL_NPCR == pytest.approx(100 * np.mean(x != y))
  assert stats.IDEAL_UACI == pytest.approx(100 * np.mean(np.abs(x - y)) / 255)
  assert round(stats.IDEAL_NPCR, 2) == 99.61 and round(stats.IDEAL_UACI, 2) == 33.46


def test_psnr_and_one_pixel_change():
  a = np.zeros((4, 4, 3), np.uint8)
  assert stats.psnr_uint8(a, a + 1) == pytest.approx(10 * math.log10(255**2))
  assert stats.psnr_uint8(a, a) == 100.0
  b = stats.change_one_pixel(a)
  assert stats.npcr(a, b) == pytest.approx(100 / 48) and b[2, 2, 0] == 1
  assert stats.change_one_pixel(np.full((4, 4, 3), 255, np.uint8))[2, 2, 0] == 254


def _fake_keyed_hider():
  """Container = cover; 'mixing' adds the key pattern mod 1; a wrong key reveals (S + k − k') mod 1."""
  def mix(s, k):
    return np.mod(s + k, 1.0)

  def hide(c, s, k):
    del s, k
    return c

  store = {}

  def hide_and_remember(c, s, k):
    store["mixed"] = mix(s, k)
    return hide(c, s, k)

  def reveal(x, k):
    del x
    return np.mod(store["mixed"] - k, 1.0)

  rng = np.random.default_rng(0)
  key = lambda: rng.random((8, 8, 3)).astype(np.float32)  # pylint: disable=unnecessary-lambda-assignment
  keys = {"right": key(), "flipped": key(), "wrong": [key() for _ in range(20)], "flip_note": "fake",
          "key_source": "fake", "wrong_note": "fake"}
  return security.Hider(hide_and_remember, reveal, mix, keys)


def _photos(n=3, size=8):
  from skimage import data  # pylint: disable=g-import-not-at-top
  img = data.astronaut()
  return np.stack([img[i * 40:i * 40 + size, 100:100 + size] for i in range(n)])


def test_analyze_a_fake_keyed_model():
  covers, secrets = _photos(), _photos()[::-1].copy()
  r = security.analyze(_fake_keyed_hider(), covers, secrets, num_pairs=3000, seed=0)
  m = r["measured"]
  assert r["keyed"]
  assert m["container_psnr"] == 100.0 and m["cover_vs_container_chi2"] == 0.0
  assert m["container_npcr_1px"] == 0.0                  # The fake container ignores the secret.
  assert m["secret_psnr"] > 45                            # mod-1 arithmetic round trip, 8-bit rounding.
  assert m["wrong_key_psnr"] < 12 and m["num_wrong_keys"] == 20
  assert m["key_flip_npcr"] > 95                          # A fresh key changes almost every pixel.
  assert m["mixed_npcr_1px"] == pytest.approx(100 / (8 * 8 * 3))  # No diffusion: one pixel in, one out.
  assert m["mixed_secret_entropy"] > m["secret_entropy"]


def test_analyze_an_unkeyed_model_says_na(tmp_path):
  hider = security.Hider(lambda c, s, k: c * 0.99 + s * 0.01, lambda x, k: x)
  covers, secrets = _photos(), _photos()[::-1].copy()
  r = security.analyze(hider, covers, secrets, num_pairs=3000)
  assert not r["keyed"] and "wrong_key_psnr" not in r["measured"]
  report = {"task": "fake", "step": 3, "key_mode": None, "num_images": 3, "image_size": 8, "measured": r["measured"]}
  md = security_report.markdown(report)
  assert "| Wrong keys: mean PSNR(S, S'_wrong) (dB) | n/a |" in md
  assert "99.61" in md and "33.46" in md and "8.0000" in md
  security_report.write_report(report, r["samples"], str(tmp_path), 3000)
  assert sorted(os.listdir(tmp_path)) == ["correlation.png", "histograms.png", "security.json", "security.md"]
  with open(tmp_path / "security.json", encoding="utf-8") as f:
    assert "container_npcr_1px" in json.load(f)["measured"]
