"""The convolutional inner code: known distance spectra, exact encoding/decoding, the planning bound."""

import math

import numpy as np
import pytest
from scipy import special

from jaxsteg.payload import convcode as C


def test_distance_spectrum_of_the_standard_codes():
  # Rate 1/2, K = 7, (133, 171): free distance 10, information weights 36, 211, 1404, 11633 (the published
  # spectrum of the NASA/802.11 code).
  spectrum = dict(C.distance_spectrum(2))
  assert min(spectrum) == 10
  assert [spectrum[d] for d in (10, 12, 14, 16)] == [36, 211, 1404, 11633]
  assert all(d % 2 == 0 for d in spectrum)   # Both generators have odd weight: every event has even weight.
  assert min(dict(C.distance_spectrum(3))) == 15   # Rate 1/3, (133, 171, 165): free distance 15.


def test_encoder_by_hand():
  # Input 1 then zeros: the impulse response is the generators read from the newest bit down.
  out = C.encode(np.array([1], np.uint8), 2).reshape(-1, 2)
  g1, g2 = (format(g, "07b") for g in C.GENERATORS[2])
  np.testing.assert_array_equal(out[:, 0], [int(b) for b in reversed(g1)])
  np.testing.assert_array_equal(out[:, 1], [int(b) for b in reversed(g2)])
  # Linearity: the code of a XOR b is the XOR of the codes.
  rng = np.random.default_rng(0)
  a, b = rng.integers(0, 2, (2, 50), dtype=np.uint8)
  np.testing.assert_array_equal(C.encode(a ^ b, 3), C.encode(a, 3) ^ C.encode(b, 3))
  assert C.encode(a, 3).size == C.coded_length(50, 3) == 3 * 56


@pytest.mark.parametrize("n", [2, 3])
def test_viterbi_corrects_errors(n):
  rng = np.random.default_rng(n)
  bits = rng.integers(0, 2, 400, dtype=np.uint8)
  code = C.encode(bits, n)
  np.testing.assert_array_equal(C.viterbi(2.0 * code - 1.0, n), bits)
  # Hard decisions: isolated flipped bits, fewer than half the free distance in any stretch.
  flipped = code.copy()
  flipped[::60] ^= 1
  np.testing.assert_array_equal(C.viterbi(2.0 * flipped - 1.0, n), bits)
  # Soft decisions: many hard errors, but the wrong bits are the doubtful ones.
  es_n0 = {2: 1.6, 3: 1.0}[n]  # Hard-decision error rates ≈ 3.5 % and 8 %.
  scores = (2.0 * code - 1.0) + rng.normal(0.0, 1.0 / math.sqrt(2 * es_n0), code.size)
  hard_errors = np.mean((scores > 0) != (code > 0))
  assert hard_errors > 0.015
  np.testing.assert_array_equal(C.viterbi(scores, n), bits)


def test_viterbi_rejects_a_short_codeword():
  with pytest.raises(ValueError, match="at least"):
    C.viterbi(np.ones(4), 2)
  with pytest.raises(ValueError, match="rate"):
    C.encode(np.ones(4, np.uint8), 5)


def test_bound_and_equivalent_snr():
  for p in (0.001, 0.05, 0.2):
    x = C.equivalent_es_n0(p)
    assert math.isclose(0.5 * special.erfc(math.sqrt(x)), p, rel_tol=1e-9)
  # The bound falls with the SNR, and the rate-1/3 code is stronger than the rate-1/2 one.
  bounds = [C.bit_error_bound(x, 2) for x in (0.6, 1.0, 2.0, 4.0)]
  assert bounds == sorted(bounds, reverse=True) and bounds[0] == 0.5 and bounds[-1] < 1e-12
  assert C.bit_error_bound(1.0, 3) < C.bit_error_bound(1.0, 2)
  # At a hard-decision error rate of 5 %, rate 1/2 with soft decisions: below 1e-5 (textbook: ≈ 4 dB Eb/N0).
  assert C.bit_error_bound(C.equivalent_es_n0(0.05), 2) < 1e-5
