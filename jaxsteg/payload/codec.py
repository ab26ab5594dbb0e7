"""Exact text payloads: text <-> a verified, error-corrected bit field of shape (H, W, D).

A learned bit channel (`jaxsteg.payload.channel`) flips some bits; this module turns it into an exact one:

  UTF-8 text -> optional zlib (only when shorter) -> optional AES-256-GCM under a scrypt-derived key
  (without a passphrase: a CRC-32 instead) -> Reed-Solomon (`reedsolo`, the outer code) -> an inner code
  (none, or a rate-1/2 or rate-1/3 convolutional code: `jaxsteg.payload.convcode`) -> bits, tiled over the body
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

The body's code is sized to a bit error rate measured on the cover (`jaxsteg.payload.plan`: `plan` and
`capacity`, so the capacity of a cover is known before embedding). Decoding either returns the exact text or
raises: NoMessageFound (no readable header), AuthenticationFailed (wrong passphrase, altered
or uncorrectable body), PassphraseRequired (the message is encrypted and no passphrase was given).
"""

from __future__ import annotations

import functools
import math
import os
import struct
import zlib
from typing import Callable

import numpy as np

from jaxsteg import errors
from jaxsteg import kdf
from jaxsteg.payload import convcode
from jaxsteg.payload import spec
from jaxsteg.payload.plan import body_length, capacity, header_log_failure, inner_bits, plan, rs_length


class PayloadError(errors.PayloadError):
  """Base class of the errors of this module (user-facing: each says what happened)."""


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
# Frames: payload bytes <-> header and RS-coded body.


def _rs(nsym: int):
  import reedsolo  # pylint: disable=g-import-not-at-top
  return reedsolo.RSCodec(nsym, nsize=255)


def rs_data(nsym: int, code: bytes) -> bytes:
  """The data bytes of an RS-coded stream (255-byte chunks of `nsym` parity each), as
  `reedsolo.RSCodec(nsym).decode` gives them (`reedsolo.ReedSolomonError` when they cannot be corrected). When
  every chunk is a codeword (the usual case: the inner code left no byte error) that is known from its
  syndromes, computed here at once in numpy, and reedsolo, whose pure-Python syndromes alone take ~0.3 s for
  a body of a few KiB with a large parity, is not called."""
  rs = _rs(nsym)
  exp, log = np.asarray(rs.gf_exp[:255], np.int64), np.asarray(rs.gf_log, np.int64)
  roots = (np.arange(nsym) + rs.fcr) * log[rs.generator] % 255   # log of each root g^(fcr + i)
  chunks = [np.frombuffer(code[i:i + 255], np.uint8) for i in range(0, len(code), 255)]
  for chunk in chunks:
    terms = np.flatnonzero(chunk)   # Syndrome i: XOR over terms j of chunk[j] · root_i^(degree of j).
    if terms.size and np.bitwise_xor.reduce(exp[(log[chunk[terms]] + np.outer(roots, len(chunk) - 1 - terms))
                                                % 255], axis=1).any():
      return bytes(rs.decode(bytearray(code))[0])
  return b"".join(chunk[:-nsym].tobytes() for chunk in chunks)


def _derive_key(passphrase: str | bytes, salt: bytes) -> bytes:
  """The AES-256 key of a message: `jaxsteg.kdf.scrypt` (a `str` passphrase is NFC-normalised)."""
  return kdf.scrypt(passphrase, salt, n=spec.SCRYPT_N, r=spec.SCRYPT_R, p=spec.SCRYPT_P)


def _flags(encrypted: bool, compressed: bool, inner: int) -> int:
  if inner not in spec.INNER_CODES:
    raise ValueError(f"inner code must be one of {spec.INNER_CODES}, got {inner}")
  return ((spec.FLAG_ENCRYPTED if encrypted else 0) | (spec.FLAG_COMPRESSED if compressed else 0)
          | (inner - 1) << spec.INNER_SHIFT)


def _header(flags: int, nsym: int, body_len: int) -> bytes:
  return spec.MAGIC + struct.pack(">BBB", spec.FORMAT_VERSION, flags, nsym) + body_len.to_bytes(3, "big")


def prepare_payload(text: str, compress: bool = True) -> tuple[bytes, bool]:
  """UTF-8 bytes of `text`, zlib-compressed when that is shorter; and whether it was compressed."""
  raw = text.encode("utf-8")
  if compress and raw:
    packed = zlib.compress(raw, 9)
    if len(packed) < len(raw):
      return packed, True
  return raw, False


def make_frame(payload: bytes, *, compressed: bool, nsym: int, passphrase: str | bytes | None, inner: int = 1,
               random_bytes: Callable[[int], bytes] = os.urandom) -> tuple[bytes, bytes]:
  """(header, RS-coded body) of a payload whose body will be sent through inner code `inner`. With a
  passphrase the body is salt ‖ nonce ‖ AES-GCM(payload), with the header as associated data (so flags, inner
  code, parity and length are authenticated too); without one it is payload ‖ CRC-32(header ‖ payload)."""
  encrypted = passphrase is not None
  flags = _flags(encrypted, compressed, inner)
  body_len = body_length(len(payload), encrypted)
  if body_len > spec.MAX_BODY_BYTES:
    raise PayloadTooLarge(len(payload), spec.MAX_BODY_BYTES - body_length(0, encrypted))
  header = _header(flags, nsym, body_len)
  if encrypted:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pylint: disable=g-import-not-at-top
    salt, nonce = random_bytes(spec.SALT_BYTES), random_bytes(spec.NONCE_BYTES)
    body = salt + nonce + AESGCM(_derive_key(passphrase, salt)).encrypt(nonce, payload, header)
  else:
    body = payload + struct.pack(">I", zlib.crc32(header + payload))
  assert len(body) == body_len
  return header, bytes(_rs(nsym).encode(body))


def inner_code(flags: int) -> int:
  """The inner code (rate denominator; 1: none) announced by header flags."""
  return ((flags & spec.FLAG_INNER_MASK) >> spec.INNER_SHIFT) + 1


def read_header(code: bytes) -> tuple[int, int, int]:
  """(flags, nsym, body length) from a header codeword; NoMessageFound when it is not one of ours."""
  import reedsolo  # pylint: disable=g-import-not-at-top
  try:
    header = rs_data(spec.HEADER_NSYM, code)
  except reedsolo.ReedSolomonError as e:
    raise NoMessageFound("no message found: the container holds no readable message header") from e
  if header[:2] != spec.MAGIC:
    raise NoMessageFound("no message found: the container holds no message of this format")
  version, flags, nsym = header[2], header[3], header[4]
  if version != spec.FORMAT_VERSION:
    raise NoMessageFound(f"no message found: format version {version} is not supported (this is "
                         f"version {spec.FORMAT_VERSION})")
  if (nsym not in spec.NSYM_CHOICES or flags & ~(spec.FLAG_ENCRYPTED | spec.FLAG_COMPRESSED | spec.FLAG_INNER_MASK)
      or inner_code(flags) not in spec.INNER_CODES):
    raise NoMessageFound("no message found: the message header is invalid")
  return flags, nsym, int.from_bytes(header[5:8], "big")


def open_frame(header_fields: tuple[int, int, int], code: bytes, passphrase: str | bytes | None) -> str:
  """The text of an RS-coded body whose header fields are known; raises on any failed check.

  An encrypted body is opened with the NFC-normalised passphrase; if that fails and the passphrase as typed
  has other UTF-8 bytes (a decomposed accent), those are tried too: containers written before the KDF
  normalised passphrases used them.
  """
  import reedsolo  # pylint: disable=g-import-not-at-top
  flags, nsym, body_len = header_fields
  encrypted = bool(flags & spec.FLAG_ENCRYPTED)
  if encrypted and passphrase is None:
    raise PassphraseRequired("the message is encrypted: a passphrase is needed to read it")
  if not encrypted and passphrase is not None:
    raise AuthenticationFailed("authentication failed: the message is not encrypted, but a passphrase was "
                               "given (the container may have been replaced)")
  try:
    body = rs_data(nsym, code)
  except reedsolo.ReedSolomonError as e:
    raise AuthenticationFailed("authentication failed: the message body is damaged beyond correction "
                               "(altered container, or too many bit errors)") from e
  header = _header(flags, nsym, body_len)
  if encrypted:
    from cryptography.exceptions import InvalidTag  # pylint: disable=g-import-not-at-top
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pylint: disable=g-import-not-at-top
    head = spec.SALT_BYTES + spec.NONCE_BYTES
    salt, nonce, ct = body[:spec.SALT_BYTES], body[spec.SALT_BYTES:head], body[head:]
    payload = None
    for candidate in (passphrase, kdf.legacy_bytes(passphrase)):
      if candidate is None:
        continue
      try:
        payload = AESGCM(_derive_key(candidate, salt)).decrypt(nonce, ct, header)
        break
      except InvalidTag:
        continue
    if payload is None:
      raise AuthenticationFailed("authentication failed: wrong passphrase, or the container was altered")
  else:
    payload, crc = body[:-spec.CRC_BYTES], body[-spec.CRC_BYTES:]
    if struct.pack(">I", zlib.crc32(header + payload)) != crc:
      raise AuthenticationFailed("authentication failed: the message fails its integrity check (the "
                                 "container was altered)")
  try:
    if flags & spec.FLAG_COMPRESSED:
      payload = zlib.decompress(payload)
    return payload.decode("utf-8")
  except (zlib.error, UnicodeDecodeError) as e:
    raise NoMessageFound("no message found: the payload is not UTF-8 text") from e


# ----------------------------------------------------------------------------------------------------------
# Bit layout over the container.


@functools.lru_cache(maxsize=16)
def _layout(num_bits: int) -> tuple[np.ndarray, np.ndarray]:
  """(permutation: stream position -> flat position, whitening bits), fixed functions of num_bits."""
  rng = np.random.default_rng([spec.LAYOUT_SEED, num_bits])
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
  region = num_bits - spec.HEADER_REGION_BITS
  body = _to_bits(body_code)
  if inner != 1:
    body = convcode.encode(body, inner)
  if region < body.size:
    raise PayloadTooLarge(len(body_code), max(region // 8, 0), "coded message")
  header = convcode.encode(_to_bits(header_code), spec.HEADER_RATE)
  stream = np.concatenate([np.tile(header, spec.HEADER_COPIES), np.resize(body, region)])
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
  return np.bincount(idx, weights=np.clip(scores, -spec.SOFT_CLIP, spec.SOFT_CLIP), minlength=period)


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
                compress: bool = True, target_failure: float = spec.DEFAULT_TARGET_FAILURE,
                random_bytes: Callable[[int], bytes] = os.urandom) -> np.ndarray:
  """`text` as an (H, W, D) uint8 bit array for a container of `shape`, planned for bit error rate `ber`.

  Raises PayloadTooLarge (with the cover's `max_bytes`) when the estimated failure probability would exceed
  `target_failure`.
  """
  h, w, d = shape
  key = passphrase
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
  return layout_bits(_rs(spec.HEADER_NSYM).encode(header), body, shape, p.inner)


def decode_text(received: np.ndarray, *, passphrase: str | bytes | None = None) -> str:
  """The exact text hidden in `received` ((H, W, D) logits, > 0 meaning 1, or 0/1 bits), or an error."""
  stream = read_stream(received)
  if stream.size < spec.HEADER_REGION_BITS + 8:
    raise NoMessageFound("no message found: the container is too small to hold one")
  header_bits = convcode.viterbi(_summed(stream[:spec.HEADER_REGION_BITS], spec.HEADER_CODE_BITS), spec.HEADER_RATE)
  fields = read_header(np.packbits(header_bits).tobytes())
  flags, nsym, body_len = fields
  inner = inner_code(flags)
  code_bytes = rs_length(body_len, nsym)
  tile = inner_bits(code_bytes, inner)
  region = stream[spec.HEADER_REGION_BITS:]
  if tile > region.size:
    raise NoMessageFound("no message found: the header announces more data than the container holds")
  if inner == 1:
    body_bits = _vote(region, tile)
  else:
    body_bits = convcode.viterbi(_summed(region, tile), inner)
  body = np.packbits(body_bits).tobytes()
  return open_frame((flags, nsym, body_len), body, passphrase)
