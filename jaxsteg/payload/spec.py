"""Payload format version 2: the constants a container's bits are laid out by (`jaxsteg.payload.codec`) and
planned for (`jaxsteg.payload.plan`). Changing any of them changes the format."""

from __future__ import annotations

from jaxsteg.payload import convcode

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
NSYM_CHOICES = tuple(range(2, 193, 2))   # RS parity bytes per 255-byte chunk the header may announce.
