"""Exact text payloads: text <-> a verified, error-corrected bit field of shape (H, W, D).

The learned bit channel (`jaxsteg.tasks.bits`) flips some bits; this module turns it into an exact one:

  UTF-8 text -> optional zlib (only when shorter) -> optional AES-256-GCM under a scrypt-derived key
  (without a passphrase: a CRC-32 instead) -> Reed-Solomon (`reedsolo`, the outer code) -> an inner code
  (none, or a rate-1/2 or rate-1/3 convolutional code: `jaxsteg.data.convcode`) -> bits, tiled over the body
  region of the container and spread over it by a fixed permutation.

Layout of the N = H·W·D bits (format version 2), in "stream" order (stream position s is flat position
`perm[s]` of the C-ordered (H, W, D) array; the permutation is fixed, so errors that cluster in a region of
the image fall on many code symbols instead of a few):
  - header region: HEADER_COPIES copies of the header codeword (8 header bytes + 16 RS parity bytes, then the
    rate-1/2 convolutional code); the header holds magic 'JT', format version, flags (encrypted, compressed,
    inner code), RS parity per 255-byte chunk, and the body length. Decoded from the summed logits of the
    copies by a Viterbi decoder, then RS.
  - body region: the body codeword repeated cyclically ("tiles") until the region is full. Without an inner
    code it is decoded by a majority vote over the tiles (ties broken by the summed logits); with a
    convolutional one, by Viterbi decoding of the logits summed over the tiles (soft decisions: a confident
    logit counts more than a doubtful one, which is what lets a container with 10 % of its bits wrong carry
    text).
Every stream bit is XORed with a fixed pseudo-random keystream (whitening), so plain ASCII looks like the
uniform random bits the network was trained on.

`plan` sizes the body's code to a bit error rate measured on held-out containers: for each inner code and RS
parity (`nsym`) it estimates the failure probability given the number of tiles that fit (repetition: the
binomial majority vote; convolutional: the union bound of soft Viterbi decoding on the Gaussian channel with
that hard-decision error rate), and keeps the most reliable; `capacity` says before embedding how many payload
bytes a cover of that size carries. Decoding either returns
the exact text or raises: NoMessageFound (no readable header), AuthenticationFailed (wrong passphrase, altered
or uncorrectable body), PassphraseRequired (the message is encrypted and no passphrase was given).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import struct
import zlib
from typing import Callable

import numpy as np

from jaxsteg.data import convcode

FORMAT_VERSION = 2
MAGIC = b"JT"
HEADER_BYTES = 8            # magic (2), version (1), flags (1), nsym (1), body length (3, big-endian)
HEADER_NSYM = 16            # The header's own RS parity: corrects 8 byte errors in 24.
HEADER_RATE = 2             # The header's inner code: the rate-1/2 convolutional code.
HEADER_COPIES = 3
HEADER_CODE_BITS = convcode.coded_length(8 * (HEADER_BYTES + HEADER_NSYM), HEADER_RATE)
HEADER_REGION_BITS = HEADER_COPIES * HEADER_CODE_BITS
MAX_BODY_BYTES = 2**24 - 1
FLAG_ENCRYPTED = 1
FLAG_COMPRESSED = 2
INNER_SHIFT = 2             # Flags bits 2-3: the body's inner code, as (rate denominator − 1).
INNER_CODES = (1, 2, 3)     # 1: none (repetition only); 2, 3: convolutional, rate 1/2 or 1/3.
FLAG_INNER_MASK = 3 << INNER_SHIFT
SOFT_CLIP = 4.0             # [inf] Logits are clipped to ±4 before summing: one overconfident wrong bit
                            # cannot outvote several right ones.

SALT_BYTES, NONCE_BYTES, TAG_BYTES, CRC_BYTES = 16, 12, 16, 4
ENCRYPTION_OVERHEAD = SALT_BYTES + NONCE_BYTES + TAG_BYTES
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1   # ≈ 0.1 s and 32 MiB per derivation: slows passphrase guessing.

LAYOUT_SEED = 0x6A7374   # Fixed: the permutation and whitening are part of the format, not a secret.
DEFAULT_TARGET_FAILURE = 1e-6   # [inf] Planned probability that a message cannot be decoded.
MIN_PLANNING_BER = 1e-4         # [inf] Never plan for a perfect channel.
_NSYM_CHOICES = tuple(range(2, 193, 2))


class PayloadError(Exception):
  """Base class of the errors of this module."""


class PayloadTooLarge(PayloadError):
  """The message does not fit the container; `max_bytes` is what this container carries."""

  def __init__(self, size: int, max_bytes: int, what: str = "message"):
    self.size, self.max_bytes = size, max_bytes
    super().__init__(f"{what} is {size} bytes; this cover carries at most {max_bytes} bytes")


class NoMessageFound(PayloadError):
  """No readable message header in the container."""


class AuthenticationFailed(PayloadError):
  """Wrong passphrase, or the container was altered (the body fails its integrity check)."""


class PassphraseRequired(PayloadError):
  """The message is encrypted and no passphrase was given."""


# ----------------------------------------------------------------------------------------------------------
# Reed-Solomon sizing.


def rs_length(n: int, nsym: int) -> int:
  """Bytes of the RS encoding of n bytes with nsym parity bytes per 255-byte chunk."""
  return n + nsym * math.ceil(n / (255 - nsym))


def body_length(payload_bytes: int, encrypted: bool) -> int:
  """Bytes of the body before RS: the payload plus encryption (salt, nonce, tag) or CRC overhead."""
  return payload_bytes + (ENCRYPTION_OVERHEAD if encrypted else CRC_BYTES)


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


def header_log_failure(ber: float) -> float:
  byte_error = _byte_error(min(max(ber, MIN_PLANNING_BER), 0.5), HEADER_COPIES, HEADER_RATE)
  from scipy import stats  # pylint: disable=g-import-not-at-top
  return float(stats.binom.logsf(HEADER_NSYM // 2, HEADER_BYTES + HEADER_NSYM, byte_error))


@functools.lru_cache(maxsize=4096)
def plan(body_bytes: int, num_bits: int, ber: float) -> Plan | None:
  """The inner code and RS parity that minimise the estimated failure probability of `body_bytes` in
  `num_bits` bits.

  Every choice fills the whole body region (more tiles for less parity), so only the failure estimate
  differs. Errors are modelled as independent with rate `ber` (the permutation spreads them); the
  convolutional codes assume the decoder gets logits (soft decisions). None when the body does not fit even
  once.
  """
  region = num_bits - HEADER_REGION_BITS
  ber = min(max(ber, MIN_PLANNING_BER), 0.5)
  best = None
  for inner in INNER_CODES:
    best_inner = None
    for nsym in _NSYM_CHOICES:
      code = rs_length(body_bytes, nsym)
      tiles = region // inner_bits(code, inner) if region > 0 else 0
      if tiles < 1:
        break  # More parity only makes the code longer.
      lf = _log_failure(body_bytes, nsym, _byte_error(ber, tiles, inner))
      # Ties (e.g. both negligible): prefer more parity; the container is filled either way.
      if best_inner is None or lf <= best_inner.log_failure:
        best_inner = Plan(nsym, code, tiles, lf, inner)
    # Across inner codes ties go to the simpler code (repetition decodes fastest).
    if best_inner is not None and (best is None or best_inner.log_failure < best.log_failure):
      best = best_inner
  return best


def capacity(height: int, width: int, depth: int, *, ber: float, encrypted: bool,
             target_failure: float = DEFAULT_TARGET_FAILURE) -> int:
  """The most payload bytes (UTF-8 after optional compression) an H×W cover with D bits per pixel carries
  with an estimated failure probability of at most `target_failure` at bit error rate `ber`; 0 if none."""
  num_bits = height * width * depth
  limit = math.log(target_failure)
  if header_log_failure(ber) > limit:
    return 0

  def fits(n):
    p = plan(body_length(n, encrypted), num_bits, ber)
    return p is not None and p.log_failure <= limit

  lo, hi = 0, min(MAX_BODY_BYTES, num_bits // 8)
  if not fits(0):
    return 0
  while lo < hi:   # Largest n with fits(n): fits is monotone in n.
    mid = (lo + hi + 1) // 2
    lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
  return lo


# ----------------------------------------------------------------------------------------------------------
# Frames: payload bytes <-> header and RS-coded body.


def _rs(nsym: int):
  import reedsolo  # pylint: disable=g-import-not-at-top
  return reedsolo.RSCodec(nsym, nsize=255)


def _derive_key(passphrase: bytes, salt: bytes) -> bytes:
  from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # pylint: disable=g-import-not-at-top
  return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def _as_bytes(passphrase: str | bytes | None) -> bytes | None:
  if passphrase is None:
    return None
  return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _flags(encrypted: bool, compressed: bool, inner: int) -> int:
  if inner not in INNER_CODES:
    raise ValueError(f"inner code must be one of {INNER_CODES}, got {inner}")
  return ((FLAG_ENCRYPTED if encrypted else 0) | (FLAG_COMPRESSED if compressed else 0)
          | (inner - 1) << INNER_SHIFT)


def _header(flags: int, nsym: int, body_len: int) -> bytes:
  return MAGIC + struct.pack(">BBB", FORMAT_VERSION, flags, nsym) + body_len.to_bytes(3, "big")


def prepare_payload(text: str, compress: bool = True) -> tuple[bytes, bool]:
  """UTF-8 bytes of `text`, zlib-compressed when that is shorter; and whether it was compressed."""
  raw = text.encode("utf-8")
  if compress and raw:
    packed = zlib.compress(raw, 9)
    if len(packed) < len(raw):
      return packed, True
  return raw, False


def make_frame(payload: bytes, *, compressed: bool, nsym: int, passphrase: bytes | None, inner: int = 1,
               random_bytes: Callable[[int], bytes] = os.urandom) -> tuple[bytes, bytes]:
  """(header, RS-coded body) of a payload whose body will be sent through inner code `inner`. With a
  passphrase the body is salt ‖ nonce ‖ AES-GCM(payload), with the header as associated data (so flags, inner
  code, parity and length are authenticated too); without one it is payload ‖ CRC-32(header ‖ payload)."""
  encrypted = passphrase is not None
  flags = _flags(encrypted, compressed, inner)
  body_len = body_length(len(payload), encrypted)
  if body_len > MAX_BODY_BYTES:
    raise PayloadTooLarge(len(payload), MAX_BODY_BYTES - body_length(0, encrypted))
  header = _header(flags, nsym, body_len)
  if encrypted:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pylint: disable=g-import-not-at-top
    salt, nonce = random_bytes(SALT_BYTES), random_bytes(NONCE_BYTES)
    body = salt + nonce + AESGCM(_derive_key(passphrase, salt)).encrypt(nonce, payload, header)
  else:
    body = payload + struct.pack(">I", zlib.crc32(header + payload))
  assert len(body) == body_len
  return header, bytes(_rs(nsym).encode(body))


def inner_code(flags: int) -> int:
  """The inner code (rate denominator; 1: none) announced by header flags."""
  return ((flags & FLAG_INNER_MASK) >> INNER_SHIFT) + 1


def read_header(code: bytes) -> tuple[int, int, int]:
  """(flags, nsym, body length) from a header codeword; NoMessageFound when it is not one of ours."""
  import reedsolo  # pylint: disable=g-import-not-at-top
  try:
    header = bytes(_rs(HEADER_NSYM).decode(bytearray(code))[0])
  except reedsolo.ReedSolomonError as e:
    raise NoMessageFound("no message found: the container holds no readable message header") from e
  if header[:2] != MAGIC:
    raise NoMessageFound("no message found: the container holds no message of this format")
  version, flags, nsym = header[2], header[3], header[4]
  if version != FORMAT_VERSION:
    raise NoMessageFound(f"no message found: format version {version} is not supported (this is "
                         f"version {FORMAT_VERSION})")
  if (nsym not in _NSYM_CHOICES or flags & ~(FLAG_ENCRYPTED | FLAG_COMPRESSED | FLAG_INNER_MASK)
      or inner_code(flags) not in INNER_CODES):
    raise NoMessageFound("no message found: the message header is invalid")
  return flags, nsym, int.from_bytes(header[5:8], "big")


def open_frame(header_fields: tuple[int, int, int], code: bytes, passphrase: bytes | None) -> str:
  """The text of an RS-coded body whose header fields are known; raises on any failed check."""
  import reedsolo  # pylint: disable=g-import-not-at-top
  flags, nsym, body_len = header_fields
  encrypted = bool(flags & FLAG_ENCRYPTED)
  if encrypted and passphrase is None:
    raise PassphraseRequired("the message is encrypted: a passphrase is needed to read it")
  if not encrypted and passphrase is not None:
    raise AuthenticationFailed("authentication failed: the message is not encrypted, but a passphrase was "
                               "given (the container may have been replaced)")
  try:
    body = bytes(_rs(nsym).decode(bytearray(code))[0])
  except reedsolo.ReedSolomonError as e:
    raise AuthenticationFailed("authentication failed: the message body is damaged beyond correction "
                               "(altered container, or too many bit errors)") from e
  header = _header(flags, nsym, body_len)
  if encrypted:
    from cryptography.exceptions import InvalidTag  # pylint: disable=g-import-not-at-top
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pylint: disable=g-import-not-at-top
    salt, nonce, ct = body[:SALT_BYTES], body[SALT_BYTES:SALT_BYTES + NONCE_BYTES], body[SALT_BYTES + NONCE_BYTES:]
    try:
      payload = AESGCM(_derive_key(passphrase, salt)).decrypt(nonce, ct, header)
    except InvalidTag as e:
      raise AuthenticationFailed("authentication failed: wrong passphrase, or the container was "
                                 "altered") from e
  else:
    payload, crc = body[:-CRC_BYTES], body[-CRC_BYTES:]
    if struct.pack(">I", zlib.crc32(header + payload)) != crc:
      raise AuthenticationFailed("authentication failed: the message fails its integrity check (the "
                                 "container was altered)")
  try:
    if flags & FLAG_COMPRESSED:
      payload = zlib.decompress(payload)
    return payload.decode("utf-8")
  except (zlib.error, UnicodeDecodeError) as e:
    raise NoMessageFound("no message found: the payload is not UTF-8 text") from e


# ----------------------------------------------------------------------------------------------------------
# Bit layout over the container.


@functools.lru_cache(maxsize=16)
def _layout(num_bits: int) -> tuple[np.ndarray, np.ndarray]:
  """(permutation: stream position -> flat position, whitening bits), fixed functions of num_bits."""
  rng = np.random.default_rng([LAYOUT_SEED, num_bits])
  perm = rng.permutation(num_bits)
  whiten = rng.integers(0, 2, num_bits, dtype=np.uint8)
  perm.setflags(write=False)
  whiten.setflags(write=False)
  return perm, whiten


def _to_bits(data: bytes) -> np.ndarray:
  return np.unpackbits(np.frombuffer(data, np.uint8))


def layout_bits(header_code: bytes, body_code: bytes, shape: tuple[int, int, int], inner: int = 1) -> np.ndarray:
  """Places a header codeword (RS-coded header bytes) and a body codeword (RS-coded body bytes, sent through
  inner code `inner`, as the header's flags say) in an (H, W, D) uint8 array of bits."""
  num_bits = int(np.prod(shape))
  region = num_bits - HEADER_REGION_BITS
  body = _to_bits(body_code)
  if inner != 1:
    body = convcode.encode(body, inner)
  if region < body.size:
    raise PayloadTooLarge(len(body_code), max(region // 8, 0), "coded message")
  header = convcode.encode(_to_bits(header_code), HEADER_RATE)
  stream = np.concatenate([np.tile(header, HEADER_COPIES), np.resize(body, region)])
  perm, whiten = _layout(num_bits)
  flat = np.empty(num_bits, np.uint8)
  flat[perm] = stream ^ whiten
  return flat.reshape(shape)


def _soft(received: np.ndarray) -> np.ndarray:
  """Received bits or logits -> float scores, > 0 meaning 1. Integer/bool inputs are taken as hard bits."""
  received = np.asarray(received)
  if received.dtype.kind in "biu":
    return received.astype(np.float32) * 2.0 - 1.0
  return received.astype(np.float32)


def _summed(scores: np.ndarray, period: int) -> np.ndarray:
  """Clipped scores summed over positions with the same index modulo `period`."""
  idx = np.arange(scores.size) % period
  return np.bincount(idx, weights=np.clip(scores, -SOFT_CLIP, SOFT_CLIP), minlength=period)


def _vote(scores: np.ndarray, period: int) -> np.ndarray:
  """Majority vote over positions with the same index modulo `period` (ties by the summed scores)."""
  idx = np.arange(scores.size) % period
  votes = np.bincount(idx, weights=np.sign(scores), minlength=period)
  total = np.bincount(idx, weights=scores, minlength=period)
  return ((votes > 0) | ((votes == 0) & (total > 0))).astype(np.uint8)


def read_stream(received: np.ndarray) -> np.ndarray:
  """(H, W, D) logits or bits -> de-whitened scores in stream order."""
  scores = _soft(received).reshape(-1)
  perm, whiten = _layout(scores.size)
  return scores[perm] * (1.0 - 2.0 * whiten)


# ----------------------------------------------------------------------------------------------------------
# Text <-> bits.


def encode_text(text: str, shape: tuple[int, int, int], *, ber: float, passphrase: str | bytes | None = None,
                compress: bool = True, target_failure: float = DEFAULT_TARGET_FAILURE,
                random_bytes: Callable[[int], bytes] = os.urandom) -> np.ndarray:
  """`text` as an (H, W, D) uint8 bit array for a container of `shape`, planned for bit error rate `ber`.

  Raises PayloadTooLarge (with the cover's `max_bytes`) when the estimated failure probability would exceed
  `target_failure`.
  """
  h, w, d = shape
  key = _as_bytes(passphrase)
  payload, compressed = prepare_payload(text, compress)
  body_len = body_length(len(payload), key is not None)
  p = plan(body_len, h * w * d, ber)
  if (p is None or p.log_failure > math.log(target_failure)
      or header_log_failure(ber) > math.log(target_failure)):
    raise PayloadTooLarge(len(payload), capacity(h, w, d, ber=ber, encrypted=key is not None,
                                                 target_failure=target_failure),
                          "message" + (" (compressed)" if compressed else ""))
  header, body = make_frame(payload, compressed=compressed, nsym=p.nsym, passphrase=key, inner=p.inner,
                            random_bytes=random_bytes)
  return layout_bits(_rs(HEADER_NSYM).encode(header), body, shape, p.inner)


def decode_text(received: np.ndarray, *, passphrase: str | bytes | None = None) -> str:
  """The exact text hidden in `received` ((H, W, D) logits, > 0 meaning 1, or 0/1 bits), or an error."""
  stream = read_stream(received)
  if stream.size < HEADER_REGION_BITS + 8:
    raise NoMessageFound("no message found: the container is too small to hold one")
  header_bits = convcode.viterbi(_summed(stream[:HEADER_REGION_BITS], HEADER_CODE_BITS), HEADER_RATE)
  fields = read_header(np.packbits(header_bits).tobytes())
  flags, nsym, body_len = fields
  inner = inner_code(flags)
  code_bytes = rs_length(body_len, nsym)
  tile = inner_bits(code_bytes, inner)
  region = stream[HEADER_REGION_BITS:]
  if tile > region.size:
    raise NoMessageFound("no message found: the header announces more data than the container holds")
  if inner == 1:
    body_bits = _vote(region, tile)
  else:
    body_bits = convcode.viterbi(_summed(region, tile), inner)
  body = np.packbits(body_bits).tobytes()
  return open_frame((flags, nsym, body_len), body, _as_bytes(passphrase))
