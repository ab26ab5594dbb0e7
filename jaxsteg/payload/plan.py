"""Sizing the error correction of a text payload to a measured bit error rate, before anything is embedded.

`plan` picks, for a body of a given size in a container of a given number of bits, the inner code (none, or
the rate-1/2 or 1/3 convolutional code) and the Reed-Solomon parity (`nsym`) with the smallest estimated
failure probability given the number of tiles that fit (repetition: the binomial majority vote;
convolutional: the union bound of soft Viterbi decoding on the Gaussian channel with that hard-decision error
rate). `capacity` says how many payload bytes a cover of that size carries at a target failure probability.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import numpy as np

from jaxsteg.payload import convcode
from jaxsteg.payload import spec

# Reed-Solomon sizing.


def rs_length(n: int, nsym: int) -> int:
  """Bytes of the RS encoding of n bytes with nsym parity bytes per 255-byte chunk."""
  return n + nsym * math.ceil(n / (255 - nsym))


def body_length(payload_bytes: int, encrypted: bool) -> int:
  """Bytes of the body before RS: the payload plus encryption (salt, nonce, tag) or CRC overhead."""
  return payload_bytes + (spec.ENCRYPTION_OVERHEAD if encrypted else spec.CRC_BYTES)


def _voted_ber(ber: float, tiles: int) -> float:
  """Bit error rate after a majority vote over `tiles` independent copies (ties: a coin flip)."""
  from scipy import stats  # pylint: disable=g-import-not-at-top
  p = stats.binom.sf(tiles // 2, tiles, ber)   # P(more than half wrong)
  if tiles % 2 == 0:
    p += 0.5 * stats.binom.pmf(tiles // 2, tiles, ber)
  return float(p)


def _log_failure(n_bytes: int, nsym: int, byte_error: float) -> float:
  """log P(some RS chunk has more than nsym/2 byte errors) (a union bound), for n_bytes of data."""
  from scipy import special, stats  # pylint: disable=g-import-not-at-top
  k = 255 - nsym
  full, rest = divmod(n_bytes, k)
  logs = []
  if full:
    logs.append(math.log(full) + stats.binom.logsf(nsym // 2, 255, byte_error))
  if rest:
    logs.append(stats.binom.logsf(nsym // 2, rest + nsym, byte_error))
  return float(special.logsumexp(logs)) if logs else -math.inf


@dataclasses.dataclass(frozen=True)
class Plan:
  """How a body is laid out: RS parity per chunk, codeword bytes, inner code (rate 1/inner; 1: none), whole
  tiles, estimated log failure probability."""
  nsym: int
  code_bytes: int
  tiles: int
  log_failure: float
  inner: int = 1


def inner_bits(code_bytes: int, inner: int) -> int:
  """Bits of the tile that carries an RS codeword of code_bytes bytes through the inner code."""
  return 8 * code_bytes if inner == 1 else convcode.coded_length(8 * code_bytes, inner)


def _byte_error(ber: float, tiles: int, inner: int) -> float:
  """Estimated probability that a byte of the RS codeword is decoded wrong."""
  if inner == 1:
    return 1.0 - (1.0 - _voted_ber(ber, tiles)) ** 8
  # Summing the logits of `tiles` copies multiplies the SNR; expected wrong bytes ≤ expected wrong bits.
  return min(1.0, 8.0 * convcode.bit_error_bound(tiles * convcode.equivalent_es_n0(ber), inner))


@functools.cache
def _binomial() -> tuple[Callable, Callable]:
  """(sf, pmf) of the binomial distribution, ufuncs of (k, n, p): the functions `scipy.stats.binom` evaluates,
  so the values are the same for 0 ≤ k < n (all the planner asks), without importing scipy.stats, which
  takes longer (0.5-1 s) than the whole plan search. SciPy without them: `scipy.stats.binom`'s own."""
  try:
    from scipy.special import _ufuncs  # pylint: disable=g-import-not-at-top
    return _ufuncs._binom_sf, _ufuncs._binom_pmf  # pylint: disable=protected-access
  except (ImportError, AttributeError):
    from scipy import stats  # pylint: disable=g-import-not-at-top
    return stats.binom.sf, stats.binom.pmf


def _binom_logsf(k, n, p):
  """log P(X > k), X ~ Binomial(n, p), for 0 ≤ k < n (as `scipy.stats.binom.logsf`: the log of the sf)."""
  with np.errstate(divide="ignore"):
    return np.log(_binomial()[0](k, n, p))


def header_log_failure(ber: float) -> float:
  byte_error = _byte_error(min(max(ber, spec.MIN_PLANNING_BER), 0.5), spec.HEADER_COPIES, spec.HEADER_RATE)
  return float(_binom_logsf(spec.HEADER_NSYM // 2, spec.HEADER_BYTES + spec.HEADER_NSYM, byte_error))


def _byte_errors(ber: float, tiles: np.ndarray, inner: int) -> np.ndarray:
  """`_byte_error` for an array of tile counts (one call of each function instead of one per count)."""
  from scipy import special  # pylint: disable=g-import-not-at-top
  if inner == 1:
    sf, pmf = _binomial()
    voted = sf(tiles // 2, tiles, ber) + np.where(tiles % 2 == 0, 0.5 * pmf(tiles // 2, tiles, ber), 0.0)
    return 1.0 - (1.0 - voted) ** 8
  es_n0 = tiles * convcode.equivalent_es_n0(ber)
  bound = sum(b_d * 0.5 * special.erfc(np.sqrt(d * es_n0)) for d, b_d in convcode.distance_spectrum(inner))
  return np.minimum(1.0, 8.0 * np.minimum(bound, 0.5))


def _log_failures(n_bytes: int, nsyms: np.ndarray, byte_error: np.ndarray) -> np.ndarray:
  """`_log_failure` for arrays of parities and byte error rates."""
  k = 255 - nsyms
  full, rest = np.divmod(n_bytes, k)
  with np.errstate(divide="ignore"):
    a = np.where(full > 0, np.log(np.maximum(full, 1)) + _binom_logsf(nsyms // 2, 255, byte_error), -np.inf)
    b = np.where(rest > 0, _binom_logsf(nsyms // 2, rest + nsyms, byte_error), -np.inf)
  return np.logaddexp(a, b)


@functools.lru_cache(maxsize=4096)
def plan(body_bytes: int, num_bits: int, ber: float) -> Plan | None:
  """The inner code and RS parity that minimise the estimated failure probability of `body_bytes` in
  `num_bits` bits.

  Every choice fills the whole body region (more tiles for less parity), so only the failure estimate
  differs. Errors are modelled as independent with rate `ber` (the permutation spreads them); the
  convolutional codes assume the decoder gets logits (soft decisions). None when the body does not fit even
  once. All parities of an inner code are evaluated at once (the estimates of `_byte_error`/`_log_failure`).
  """
  region = num_bits - spec.HEADER_REGION_BITS
  ber = min(max(ber, spec.MIN_PLANNING_BER), 0.5)
  nsyms = np.asarray(spec.NSYM_CHOICES)
  codes = body_bytes + nsyms * -(-body_bytes // (255 - nsyms))   # rs_length, for every parity.
  best = None
  for inner in spec.INNER_CODES:
    bits = 8 * codes if inner == 1 else inner * (8 * codes + convcode.MEMORY)
    tiles = region // bits if region > 0 else np.zeros_like(bits)
    fit = int(np.sum(np.cumprod(tiles >= 1)))   # More parity only makes the code longer: a prefix fits.
    if fit == 0:
      continue
    lf = _log_failures(body_bytes, nsyms[:fit], _byte_errors(ber, tiles[:fit], inner))
    # Ties (e.g. both negligible): prefer more parity; the container is filled either way.
    i = int(np.flatnonzero(lf == lf.min())[-1])
    candidate = Plan(int(nsyms[i]), int(codes[i]), int(tiles[i]), float(lf[i]), inner)
    # Across inner codes ties go to the simpler code (repetition decodes fastest).
    if best is None or candidate.log_failure < best.log_failure:
      best = candidate
  return best


BER_GRID = 1024   # max_ber searches bit error rates k / BER_GRID.


@functools.lru_cache(maxsize=256)
def max_ber(body_bytes: int, num_bits: int, target_failure: float = spec.DEFAULT_TARGET_FAILURE) -> float | None:
  """The highest bit error rate (on a grid of 1/BER_GRID) at which a body of `body_bytes` still fits `num_bits`
  bits with an estimated failure probability of at most `target_failure`; None if it fits at no rate.

  Fitting is monotone in the rate (a noisier channel needs a stronger code), so a message planned for this rate
  also meets the target at every lower one."""
  limit = math.log(target_failure)

  def fits(k):
    ber = k / BER_GRID
    p = plan(body_bytes, num_bits, ber)
    return p is not None and p.log_failure <= limit and header_log_failure(ber) <= limit

  if not fits(0):
    return None
  lo, hi = 0, BER_GRID // 2
  while lo < hi:   # Largest k with fits(k).
    mid = (lo + hi + 1) // 2
    lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
  return max(lo / BER_GRID, spec.MIN_PLANNING_BER)


def capacity(height: int, width: int, depth: int, *, ber: float, encrypted: bool,
             target_failure: float = spec.DEFAULT_TARGET_FAILURE) -> int:
  """The most payload bytes (UTF-8 after optional compression) an H×W cover with D bits per pixel carries
  with an estimated failure probability of at most `target_failure` at bit error rate `ber`; 0 if none."""
  num_bits = height * width * depth
  limit = math.log(target_failure)
  if header_log_failure(ber) > limit:
    return 0

  def fits(n):
    p = plan(body_length(n, encrypted), num_bits, ber)
    return p is not None and p.log_failure <= limit

  lo, hi = 0, min(spec.MAX_BODY_BYTES, num_bits // 8)
  if not fits(0):
    return 0
  while lo < hi:   # Largest n with fits(n): fits is monotone in n.
    mid = (lo + hi + 1) // 2
    lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
  return lo


