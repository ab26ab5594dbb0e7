"""The one passphrase KDF: scrypt (RFC 7914) of the NFC-normalised UTF-8 passphrase.

Used by KeyMixer's passphrase keys (`jaxsteg.keys`, salt from the run's config) and by the encrypted text
payloads (`jaxsteg.payload.codec`, a random salt per message). A passphrase given as `str` is normalised to
Unicode NFC first, so the same text typed with a composed accent (é, U+00E9) or a decomposed one (e + U+0301)
derives the same key; `bytes` are used as they are. Nothing here imports JAX.
"""

from __future__ import annotations

import hashlib
import unicodedata

KEY_BYTES = 32


def passphrase_bytes(passphrase: str | bytes) -> bytes:
  """The bytes the KDF sees: UTF-8 of the NFC form of a `str`; `bytes` unchanged."""
  if isinstance(passphrase, str):
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")
  return bytes(passphrase)


def legacy_bytes(passphrase: str | bytes) -> bytes | None:
  """The bytes text payloads used before NFC normalisation (plain UTF-8), when they differ from
  `passphrase_bytes`; None otherwise. Decoders try these second so that older containers still open."""
  if isinstance(passphrase, str):
    raw = passphrase.encode("utf-8")
    return raw if raw != passphrase_bytes(passphrase) else None
  return None


def scrypt(passphrase: str | bytes, salt: bytes, *, n: int = 2**15, r: int = 8, p: int = 1,
           length: int = KEY_BYTES) -> bytes:
  """scrypt(passphrase, salt) -> `length` bytes; ValueError for an empty passphrase."""
  pw = passphrase_bytes(passphrase)
  if not pw:
    raise ValueError("the passphrase is empty")
  maxmem = 128 * r * (n + p + 2) + (1 << 20)
  return hashlib.scrypt(pw, salt=bytes(salt), n=n, r=r, p=p, maxmem=maxmem, dklen=length)
