"""Terminated binary convolutional codes with soft-decision Viterbi decoding (numpy only).

The inner code of the exact text path (`jaxsteg.payload.codec`): the learned bit channel gives a logit per bit,
and a convolutional code decoded on those logits corrects far more errors per parity bit than a repetition vote.
The codes are the standard constraint-length-7 ones (Odenwalder; the NASA/CCSDS and 802.11 generators):
rate 1/2 with generators (133, 171) octal, free distance 10; rate 1/3 with (133, 171, 165), free distance 15.
Every codeword starts and ends in the zero state (K − 1 tail bits of 0).

`bit_error_bound` is the union bound on the decoded bit error rate for an additive white Gaussian noise channel
of a given symbol SNR, from the code's distance spectrum (computed here, not tabulated): it plans how much of a
container the code may use.
"""

from __future__ import annotations

import functools
import math

import numpy as np

CONSTRAINT = 7
MEMORY = CONSTRAINT - 1
STATES = 1 << MEMORY
GENERATORS = {2: (0o133, 0o171), 3: (0o133, 0o171, 0o165)}   # Rate 1/n -> generator polynomials (octal).


def _parity(x: np.ndarray) -> np.ndarray:
  x = x.copy()
  out = np.zeros_like(x)
  while x.any():
    out ^= x & 1
    x >>= 1
  return out


@functools.lru_cache(maxsize=None)
def _tables(n: int):
  """Output bits of every 7-bit register (newest input bit lowest) and each state's two predecessors.

  The state is the last MEMORY input bits (newest lowest); next state = (state << 1 | u) & (STATES − 1), so the
  state reached ends in u, and its predecessors are (s >> 1) and (s >> 1) | STATES/2.
  """
  if n not in GENERATORS:
    raise ValueError(f"no convolutional code of rate 1/{n}; rates: {sorted(GENERATORS)}")
  reg = np.arange(1 << CONSTRAINT)
  out = np.stack([_parity(reg & g) for g in GENERATORS[n]], axis=1).astype(np.uint8)   # (128, n)
  s = np.arange(STATES)
  pred = np.stack([s >> 1, (s >> 1) | (STATES >> 1)])                                 # (2, STATES)
  reg_of = ((pred << 1) | (s & 1)) & ((1 << CONSTRAINT) - 1)                          # register of each branch
  for a in (out, pred, reg_of):
    a.setflags(write=False)
  return out, pred, reg_of


def coded_length(num_bits: int, n: int) -> int:
  """Code bits of a terminated codeword carrying num_bits bits at rate 1/n."""
  return n * (num_bits + MEMORY)


def encode(bits: np.ndarray, n: int) -> np.ndarray:
  """Terminated rate-1/n codeword (uint8, length n·(len + 6)) of a 0/1 array."""
  out, _, _ = _tables(n)
  u = np.concatenate([np.asarray(bits, np.int64).reshape(-1), np.zeros(MEMORY, np.int64)])
  # Register at time t: u[t] (lowest) ... u[t − 6] (highest), zeros before the start.
  padded = np.concatenate([np.zeros(MEMORY, np.int64), u])
  reg = np.zeros(u.size, np.int64)
  for k in range(CONSTRAINT):
    reg |= padded[MEMORY - k: MEMORY - k + u.size] << k
  return out[reg].reshape(-1)


def viterbi(scores: np.ndarray, n: int) -> np.ndarray:
  """Maximum-likelihood decoding of a terminated rate-1/n codeword from soft scores (> 0 means 1; the
  magnitude is the confidence, e.g. a logit; ±1 for hard bits). Returns the 0/1 information bits (uint8)."""
  out, pred, reg_of = _tables(n)
  scores = np.asarray(scores, np.float64).reshape(-1, n)
  steps = scores.shape[0]
  if steps < MEMORY:
    raise ValueError(f"a rate-1/{n} codeword has at least {n * MEMORY} bits, got {scores.size}")
  signs = 2.0 * out.astype(np.float64) - 1.0                     # (128, n): ±1 per output bit
  branch = scores @ signs.T                                       # (steps, 128): correlation of each register
  b0, b1 = reg_of[0], reg_of[1]
  p0, p1 = pred[0], pred[1]
  metric = np.full(STATES, -np.inf)
  metric[0] = 0.0
  choice = np.empty((steps, STATES), np.bool_)
  for t in range(steps):
    a = metric[p0] + branch[t, b0]
    b = metric[p1] + branch[t, b1]
    choice[t] = b > a
    metric = np.where(choice[t], b, a)
  bits = np.empty(steps, np.uint8)
  state = 0                                                       # Terminated: ends in the zero state.
  for t in range(steps - 1, -1, -1):
    bits[t] = state & 1
    state = p1[state] if choice[t, state] else p0[state]
  return bits[:steps - MEMORY]


@functools.lru_cache(maxsize=None)
def distance_spectrum(n: int, max_distance: int = 40) -> tuple[tuple[int, float], ...]:
  """((d, B_d), ...): B_d = total information-bit weight of the error events of output weight d (events that
  leave the zero state once and return), for d ≤ max_distance. Used by the union bound."""
  out, _, _ = _tables(n)
  weight = out.sum(axis=1)                                       # Output weight of each register.
  count = np.zeros((STATES, max_distance + 1))                   # Paths by (state, output weight) ...
  info = np.zeros((STATES, max_distance + 1))                    # ... and their summed input weight.
  w0 = int(weight[1])                                            # Leave state 0 with input 1: register 1.
  count[1, w0], info[1, w0] = 1.0, 1.0
  spectrum = np.zeros(max_distance + 1)
  while count.any():
    new_count, new_info = np.zeros_like(count), np.zeros_like(info)
    for s in range(1, STATES):                                   # Paths that have returned to 0 are done.
      if not count[s].any():
        continue
      for u in (0, 1):
        reg = (s << 1) | u
        nxt, w = reg & (STATES - 1), int(weight[reg])
        if w > max_distance:
          continue
        keep = max_distance + 1 - w                              # Weights that stay ≤ max_distance.
        c, i = np.zeros_like(count[s]), np.zeros_like(info[s])
        c[w:], i[w:] = count[s, :keep], info[s, :keep] + u * count[s, :keep]
        if nxt == 0:
          spectrum += i
        else:
          new_count[nxt] += c
          new_info[nxt] += i
    count, info = new_count, new_info
  return tuple((d, float(b)) for d, b in enumerate(spectrum) if b > 0)


def bit_error_bound(es_n0: float, n: int) -> float:
  """Union bound on the bit error rate of soft-decision Viterbi decoding at symbol SNR Es/N0 (linear) of an
  AWGN channel with antipodal signalling: Σ_d B_d · Q(√(2 d Es/N0)), capped at ½."""
  from scipy import special  # pylint: disable=g-import-not-at-top
  total = 0.0
  for d, b in distance_spectrum(n):
    total += b * 0.5 * special.erfc(math.sqrt(d * es_n0))       # Q(√(2x)) = ½ erfc(√x)
  return min(total, 0.5)


def equivalent_es_n0(bit_error_rate: float) -> float:
  """The symbol SNR at which hard decisions on an AWGN channel err at this rate: Q(√(2 Es/N0)) = p."""
  from scipy import special  # pylint: disable=g-import-not-at-top
  p = min(max(bit_error_rate, 1e-12), 0.5)
  return float(special.erfcinv(2.0 * p)) ** 2                   # Q(√(2x)) = p ⇔ x = erfcinv(2p)².
