"""Passphrase → key tensor for KeyMixer models in passphrase mode.

1. KDF: scrypt (RFC 7914, `jaxsteg.kdf`: NFC-normalised UTF-8) of the passphrase with the model's salt (`config.kdf.salt`,
   stored in the run's config.json, so every model has its own), N = 2^15, r = 8, p = 1 by default (≈ 32 MiB
   and ≈ 0.1 s per derivation on a 2-core CPU: the cost of each guess in a dictionary attack), 32-byte output.
2. Key tensor: the 32 bytes are read as eight big-endian uint32 words; words 0-1 form a threefry2x32 PRNG key
   and words 2-7 are folded into it one after another, so every bit of the KDF output matters. The tensor is
   `key_std · N(0, 1)` of the model's key shape, drawn from that PRNG key (deterministic on every platform).

Training draws key tensors with the same distribution directly (`random_keys`), so any passphrase gives a key
the network has learned to use. The key tensor only conditions a learned transform: this is not a cipher.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxsteg import kdf

KDF_BYTES = kdf.KEY_BYTES
DEFAULT_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def derive_bytes(passphrase: str, salt: str, *, n: int = 2**15, r: int = 8, p: int = 1) -> bytes:
  """scrypt(passphrase, salt) -> 32 bytes. The passphrase is NFC-normalised first (same text, same key)."""
  return kdf.scrypt(passphrase, salt.encode("utf-8"), n=n, r=r, p=p, length=KDF_BYTES)


def prng_key_from_bytes(kdf_bytes: bytes) -> jax.Array:
  """32 bytes -> a typed threefry PRNG key that depends on all 256 bits."""
  if len(kdf_bytes) != KDF_BYTES:
    raise ValueError(f"expected {KDF_BYTES} key bytes, got {len(kdf_bytes)}")
  words = np.frombuffer(kdf_bytes, dtype=">u4").astype(np.uint32)
  key = jax.random.wrap_key_data(jnp.asarray(words[:2]), impl="threefry2x32")
  for w in words[2:]:
    key = jax.random.fold_in(key, int(w))
  return key


def key_tensor_from_bytes(kdf_bytes: bytes, shape: tuple[int, ...], std: float) -> jnp.ndarray:
  """The model's key tensor (float32, `shape`) for 32 KDF bytes."""
  return std * jax.random.normal(prng_key_from_bytes(kdf_bytes), shape, jnp.float32)


def random_keys(rng: jax.Array, batch: int, shape: tuple[int, ...], std: float) -> jnp.ndarray:
  """(batch,) + shape key tensors with the distribution of derived ones (training and wrong-key trials)."""
  return std * jax.random.normal(rng, (batch,) + tuple(shape), jnp.float32)


def flip_bit(data: bytes, bit: int) -> bytes:
  """`data` with bit `bit` flipped (bit 0 = least significant bit of byte 0)."""
  out = bytearray(data)
  out[bit // 8] ^= 1 << (bit % 8)
  return bytes(out)


def key_from_config(passphrase: str, kdf_config, shape: tuple[int, ...], std: float) -> jnp.ndarray:
  """Passphrase -> key tensor with the run's KDF settings (`config.kdf`) and key scale `std`."""
  derived = derive_bytes(passphrase, kdf_config.salt, n=kdf_config.scrypt_n, r=kdf_config.scrypt_r,
                         p=kdf_config.scrypt_p)
  return key_tensor_from_bytes(derived, shape, std)
