"""The exact text codec: round trips, bit errors up to the Reed-Solomon limit, encryption, typed failures."""

import math

import numpy as np
import pytest

from jaxsteg.payload import convcode as C
from jaxsteg.payload import codec as P
from jaxsteg.payload import plan as PL
from jaxsteg.payload import spec as S

SHAPE = (64, 64, 2)
TEXTS = ["", "hello", "héllo wörld ✓ 日本語 🙂", "The quick brown fox. " * 40]


def _fixed_bytes(n):
  return bytes(range(n))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("passphrase", [None, "correct horse"])
def test_round_trip(text, passphrase):
  bits = P.encode_text(text, SHAPE, ber=0.01, passphrase=passphrase)
  assert bits.shape == SHAPE and bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
  assert P.decode_text(bits, passphrase=passphrase) == text
  # Logits (> 0 means 1) decode the same way as hard bits.
  assert P.decode_text(bits.astype(np.float32) * 4 - 2, passphrase=passphrase) == text


def test_random_bit_errors_at_the_planned_rate_are_corrected():
  rng = np.random.default_rng(0)
  text = "".join(chr(c) for c in rng.integers(0x20, 0x7E, 120))
  for trial in range(5):
    bits = P.encode_text(text, SHAPE, ber=0.03, passphrase="pw")
    noisy = bits ^ (rng.random(SHAPE) < 0.03).astype(np.uint8)
    assert P.decode_text(noisy, passphrase="pw") == text, trial


def _single_tile_frame(passphrase):
  """A body that fits exactly once (one tile), so byte errors reach Reed-Solomon undiluted by the vote."""
  num_bits = int(np.prod(SHAPE))
  region_bytes = (num_bits - S.HEADER_REGION_BITS) // 8
  nsym = 32
  payload_len = 1
  while P.rs_length(P.body_length(payload_len + 1, passphrase is not None), nsym) <= region_bytes:
    payload_len += 1
  assert P.rs_length(P.body_length(payload_len, passphrase is not None), nsym) * 2 > region_bytes
  payload = bytes(np.random.default_rng(1).integers(0x41, 0x5A, payload_len, dtype=np.uint8))
  key = None if passphrase is None else passphrase.encode()
  header, body = P.make_frame(payload, compressed=False, nsym=nsym, passphrase=key)
  return payload.decode(), header, body, nsym


def _corrupt_bytes(code: bytes, positions) -> bytes:
  code = bytearray(code)
  for p in positions:
    code[p] ^= 0xA5
  return bytes(code)


@pytest.mark.parametrize("passphrase", [None, "pw"])
def test_byte_errors_up_to_the_rs_limit(passphrase):
  text, header, body, nsym = _single_tile_frame(passphrase)
  header_code = bytes(P._rs(S.HEADER_NSYM).encode(header))  # pylint: disable=protected-access
  limit = nsym // 2
  # Up to nsym/2 corrupted bytes in every 255-byte chunk: corrected exactly.
  bad = [c * 255 + j * 7 for c in range(math.ceil(len(body) / 255)) for j in range(limit)
         if c * 255 + j * 7 < len(body)]
  bits = P.layout_bits(header_code, _corrupt_bytes(body, bad), SHAPE)
  assert P.decode_text(bits, passphrase=passphrase) == text
  # One more in the first chunk: beyond the limit, an error, never garbage.
  bits = P.layout_bits(header_code, _corrupt_bytes(body, bad + [limit * 7]), SHAPE)
  with pytest.raises(P.AuthenticationFailed):
    P.decode_text(bits, passphrase=passphrase)


def test_wrong_passphrase():
  bits = P.encode_text("secret", SHAPE, ber=0.01, passphrase="right")
  with pytest.raises(P.AuthenticationFailed, match="authentication failed"):
    P.decode_text(bits, passphrase="wrong")
  with pytest.raises(P.PassphraseRequired):
    P.decode_text(bits)


def test_passphrase_given_for_a_plain_message_is_refused():
  bits = P.encode_text("plain", SHAPE, ber=0.01)
  with pytest.raises(P.AuthenticationFailed):
    P.decode_text(bits, passphrase="pw")


@pytest.mark.parametrize("passphrase", [None, "pw"])
def test_consistent_tampering_is_detected(passphrase):
  """An attacker who rewrites a byte and recomputes the Reed-Solomon parity still fails the check."""
  key = None if passphrase is None else passphrase.encode()
  header, body = P.make_frame(b"pay the bearer 100", compressed=False, nsym=16, passphrase=key)
  raw = bytearray(P._rs(16).decode(bytearray(body))[0])  # pylint: disable=protected-access
  raw[-(S.TAG_BYTES if key else S.CRC_BYTES) - 3] ^= 1   # A payload byte.
  forged = bytes(P._rs(16).encode(bytes(raw)))  # pylint: disable=protected-access
  bits = P.layout_bits(bytes(P._rs(S.HEADER_NSYM).encode(header)), forged, SHAPE)  # pylint: disable=protected-access
  with pytest.raises(P.AuthenticationFailed):
    P.decode_text(bits, passphrase=passphrase)


def test_no_message_in_random_or_blank_bits():
  rng = np.random.default_rng(0)
  for bits in (rng.integers(0, 2, SHAPE, dtype=np.uint8), np.zeros(SHAPE, np.uint8), np.ones(SHAPE, np.uint8)):
    with pytest.raises(P.NoMessageFound, match="no message found"):
      P.decode_text(bits)


def test_over_capacity_reports_the_maximum():
  cap = P.capacity(*SHAPE, ber=0.01, encrypted=True)
  assert cap > 0
  rng = np.random.default_rng(0)
  # Incompressible text (random bytes as latin-1 letters would compress; use random hex of random bytes).
  fits = bytes(rng.integers(0x21, 0x7F, cap, dtype=np.uint8)).decode()
  payload, compressed = P.prepare_payload(fits)
  if not compressed:
    assert P.decode_text(P.encode_text(fits, SHAPE, ber=0.01, passphrase="pw"), passphrase="pw") == fits
  too_big = "".join(chr(0x4E00 + int(c)) for c in rng.integers(0, 20000, cap))   # 3 bytes per char
  with pytest.raises(P.PayloadTooLarge) as e:
    P.encode_text(too_big, SHAPE, ber=0.01, passphrase="pw")
  assert e.value.max_bytes == cap and f"at most {cap} bytes" in str(e.value)
  del payload


def test_capacity_grows_with_size_and_falls_with_error_rate():
  assert P.capacity(128, 128, 2, ber=0.01, encrypted=False) > P.capacity(64, 64, 2, ber=0.01, encrypted=False)
  assert P.capacity(64, 64, 2, ber=0.001, encrypted=True) > P.capacity(64, 64, 2, ber=0.03, encrypted=True)
  assert P.capacity(64, 64, 4, ber=0.01, encrypted=True) > P.capacity(64, 64, 2, ber=0.01, encrypted=True)
  assert P.capacity(8, 8, 1, ber=0.01, encrypted=True) == 0
  # 0.5 net bits per pixel in a 128x128 cover at a few percent of bit errors, with encryption.
  assert P.capacity(128, 128, 2, ber=0.02, encrypted=True) >= 1024
  # ... and at 13 %, with logits (soft decisions) and the convolutional inner code.
  assert P.capacity(128, 128, 2, ber=0.13, encrypted=True) >= 1024


def test_layout_is_deterministic_and_whitened():
  a = P.encode_text("a" * 50, SHAPE, ber=0.01, compress=False)
  b = P.encode_text("a" * 50, SHAPE, ber=0.01, compress=False)
  np.testing.assert_array_equal(a, b)
  assert 0.4 < a.mean() < 0.6   # Plain ASCII still looks like balanced random bits.


def test_too_small_container():
  with pytest.raises(P.NoMessageFound):
    P.decode_text(np.zeros((4, 4, 1), np.uint8))
  with pytest.raises(P.PayloadTooLarge):
    P.encode_text("x", (4, 4, 1), ber=0.01)


@pytest.mark.parametrize("inner", S.INNER_CODES)
def test_round_trip_through_each_inner_code(inner):
  payload = b"through the inner code " * 4
  header, body = P.make_frame(payload, compressed=False, nsym=16, passphrase=b"pw", inner=inner)
  header_code = bytes(P._rs(S.HEADER_NSYM).encode(header))  # pylint: disable=protected-access
  assert P.inner_code(P.read_header(header_code)[0]) == inner
  bits = P.layout_bits(header_code, body, SHAPE, inner)
  assert P.decode_text(bits, passphrase="pw") == payload.decode()
  # A body laid out with another inner code than its header announces: an error, never text.
  with pytest.raises(P.PayloadError):
    P.decode_text(P.layout_bits(header_code, body, SHAPE, 1 + inner % 3), passphrase="pw")


def test_unknown_inner_code_in_a_header():
  header = P._header(3 << S.INNER_SHIFT, 16, 10)  # pylint: disable=protected-access
  with pytest.raises(P.NoMessageFound, match="invalid"):
    P.read_header(bytes(P._rs(S.HEADER_NSYM).encode(header)))  # pylint: disable=protected-access


def test_soft_logits_at_a_high_error_rate_carry_half_a_bit_per_pixel():
  """Logits of a Gaussian channel on which 12 % of hard decisions are wrong: the planner picks the rate-1/3
  convolutional code, and 1 KiB of encrypted text (0.5 net bits per pixel of a 128×128 cover, 2 bits per
  pixel) comes back exactly; a repetition vote alone could not carry it."""
  shape, ber, size = (128, 128, 2), 0.12, 1024
  rng = np.random.default_rng(0)
  text = bytes(rng.integers(0x21, 0x7F, size, dtype=np.uint8)).decode()
  plan = P.plan(P.body_length(size, True), int(np.prod(shape)), ber)
  assert plan.inner == 3 and plan.log_failure < math.log(S.DEFAULT_TARGET_FAILURE)
  body = P.body_length(size, True)
  vote_failures = []   # What a repetition vote alone would give in the same container.
  for nsym in (16, 64, 128):
    code = P.rs_length(body, nsym)
    tiles = (int(np.prod(shape)) - S.HEADER_REGION_BITS) // (8 * code)
    byte_error = PL._byte_error(ber, tiles, 1)  # pylint: disable=protected-access
    vote_failures.append(PL._log_failure(body, nsym, byte_error))  # pylint: disable=protected-access
  assert min(vote_failures) > math.log(0.01)
  bits = P.encode_text(text, shape, ber=ber, passphrase="pw", compress=False)
  sigma = 1.0 / math.sqrt(2.0 * C.equivalent_es_n0(ber))
  for trial in range(3):
    received = (2.0 * bits - 1.0) + rng.normal(0.0, sigma, shape)
    assert np.mean((received > 0) != (bits > 0)) > 0.11
    logits = 2.0 * received / sigma**2
    assert P.decode_text(logits, passphrase="pw") == text, trial


def test_one_kdf_for_text_and_keymixer_keys():
  """The payload key is `jaxsteg.kdf.scrypt` with the format's cost: byte for byte what the `cryptography`
  Scrypt that containers were written with before gives for the same bytes (so they still open), and the
  same function KeyMixer's passphrase keys use."""
  from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # pylint: disable=g-import-not-at-top
  from jaxsteg import kdf, keys  # pylint: disable=g-import-not-at-top,multiple-imports
  salt = bytes(range(16))
  old = Scrypt(salt=salt, length=32, n=S.SCRYPT_N, r=S.SCRYPT_R, p=S.SCRYPT_P).derive(b"correct horse")
  assert kdf.scrypt("correct horse", salt, n=S.SCRYPT_N, r=S.SCRYPT_R, p=S.SCRYPT_P) == old
  assert keys.derive_bytes("caf\u00e9", "s", n=2**10) == kdf.scrypt("cafe\u0301", b"s", n=2**10)


def test_a_decomposed_accent_passphrase_opens_the_same_message():
  """The same passphrase typed with a composed (é) or a decomposed (e + U+0301) accent is one key; a container
  written before passphrases were normalised (the KDF saw the typed bytes) still opens with what was typed."""
  composed, decomposed = "caf\u00e9 cr\u00e8me", "cafe\u0301 cre\u0300me"
  assert composed != decomposed and composed.encode() != decomposed.encode()
  bits = P.encode_text("meet at noon", SHAPE, ber=0.01, passphrase=decomposed)
  assert P.decode_text(bits, passphrase=composed) == "meet at noon"
  assert P.decode_text(bits, passphrase=decomposed) == "meet at noon"
  # The old derivation: the typed (decomposed) UTF-8 bytes, not normalised.
  header, body = P.make_frame(b"old message", compressed=False, nsym=16, passphrase=decomposed.encode("utf-8"))
  legacy = P.layout_bits(bytes(P._rs(S.HEADER_NSYM).encode(header)), body, SHAPE)  # pylint: disable=protected-access
  assert P.decode_text(legacy, passphrase=decomposed) == "old message"
  with pytest.raises(P.AuthenticationFailed):
    P.decode_text(legacy, passphrase="cafe creme")


def test_planner_binomial_is_scipy_stats_binom():
  """The planner's binomial sf, pmf and log sf (SciPy's ufuncs, without importing scipy.stats) give exactly what
  `scipy.stats.binom` gives over the arguments it asks for (0 ≤ k < n ≤ 255 + parity, any p), so the plans, and
  the capacity they allow, are unchanged."""
  from scipy import stats  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  n = rng.integers(1, 600, 20000)
  k = rng.integers(0, n)
  p = np.concatenate([rng.random(19998) ** 4, [0.0, 1.0]])
  sf, pmf = PL._binomial()  # pylint: disable=protected-access
  np.testing.assert_array_equal(sf(k, n, p), stats.binom.sf(k, n, p))
  np.testing.assert_array_equal(pmf(k, n, p), stats.binom.pmf(k, n, p))
  logsf = PL._binom_logsf  # pylint: disable=protected-access
  np.testing.assert_array_equal(logsf(k, n, p), stats.binom.logsf(k, n, p))


@pytest.mark.parametrize("nsym", [2, 16, 132, 192])
def test_rs_data_is_reedsolo_decode(nsym):
  """`codec.rs_data` returns what reedsolo's decoder returns, for streams without byte errors (its numpy
  syndrome check) and with them (reedsolo corrects them, or refuses them)."""
  import reedsolo  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(nsym)
  for errors in (0, 1, 5, 200):
    body = bytes(rng.integers(0, 256, int(rng.integers(1, 2000)), dtype=np.uint8))
    code = bytearray(reedsolo.RSCodec(nsym, nsize=255).encode(body))
    for _ in range(errors):
      code[int(rng.integers(len(code)))] ^= int(rng.integers(1, 256))
    try:
      want = bytes(reedsolo.RSCodec(nsym, nsize=255).decode(bytearray(code))[0])
    except reedsolo.ReedSolomonError:
      with pytest.raises(reedsolo.ReedSolomonError):
        P.rs_data(nsym, bytes(code))
      continue
    assert P.rs_data(nsym, bytes(code)) == want
    assert errors or want == body
