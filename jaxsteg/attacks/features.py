"""Rich-model steganalysis features of uint8 images, vectorised numpy: `extract(name, images) -> (N, D) float64`.

Images are uint8 (N, H, W, C), C in {1, 3}. Every feature is a normalised co-occurrence of quantised, truncated
noise residuals (the part of an image a ±1 embedding change disturbs most), counted for all images of a chunk at
once with one `np.bincount` over packed bin indices. Names (`NAMES`):

  spam   second-order SPAM (Pevný, Bas, Fridrich, "Steganalysis by subtractive pixel adjacency matrix", IEEE TIFS
         5(2), 2010), T = 3: differences D = X(p) − X(p + d) of neighbours in the 8 directions d (→ ← ↓ ↑ and the 4
         diagonals), truncated to [−3, 3]; for each direction the 7³ histogram of consecutive triples (D_{j+2},
         D_{j+1}, D_j) along d; the 4 axis directions averaged into F1, the 4 diagonal ones into F2: 686-d
         [F1, F2] per channel, bins in the order of the authors' reference code (spam686.m, DDE Lab). As in that
         code, each histogram is normalised to a joint distribution (sum 1); the paper writes the model as
         transition probabilities P(D_{j+2} | D_{j+1}, D_j), which divide the same counts by their pair marginals.
         Colour: the three channels' 686-d vectors concatenated, 2058-d for RGB.
  spam_pooled  the same SPAM with each histogram counted over the channels together (as the SRM here), 686-d
         for any C. On LSB matching at 0.4 bpp (64×64 RGB crops, 1000 training pairs, logistic regression) it
         found 70 % of the held-out pairs against 62 % for the concatenation: 3× the samples per histogram.
  srmq1  the spatial rich model (Fridrich & Kodovský, "Rich models for steganalysis of digital images", IEEE TIFS
         7(3), 2012) with quantisation q = 1 (times each residual class's central coefficient c) only: 39
         submodels, 12753-d (the DDE Lab's SRMQ1.m).
  srm    the full SRM, 106 submodels, 34671-d (SRM.m): 1st order at q ∈ {1, 2}, every other class at
         q ∈ {1, 1.5, 2} · c (c = 2 for 2nd order, 3 for 3rd, 4 for 3×3 KB / edges, 12 for 5×5 KV / edges).

SRM construction (per residual class and q; T = 2, co-occurrences of order 4, 5⁴ = 625 bins): residuals R =
(predictor − X), quantised and truncated, Q(R) = clip(round(R / q), −2, 2) with MATLAB's rounding (halves away
from zero); 'minmax' residuals are the element-wise min and max over sets of directional residuals; each
co-occurrence is counted along rows ('h') or columns ('v') of 4 consecutive quantised values, several arrays of
the same shape pooled into one normalised histogram; a submodel is a sum of such histograms (e.g. spam14h = hor
co-occurrence of the right residual + ver co-occurrence of the up residual). Symmetrisation as in the paper:
spam-type submodels merge each bin with its sign-flipped and reversed bins (625 → 169); minmax submodels add the
max histogram, sign-flipped, to the min histogram and merge each bin with its reverse (2 · 625 → 325). The
h and v variants of spam14 / spam12 are concatenated (338), as are the KB and KV spam11 of the same q (s35).
The residual sets of each submodel are data (`_ODD`, `_EVEN`, `_EDGE` below), read off SRM.m. Colour (C = 3):
each co-occurrence is counted over the three channels together before normalising, so the dimension is that of
one channel (12753, 34671). Output order: `srm_layout(name)`, submodels named as in the reference (class s1, s2,
s3, s3x3, s5x5; submodel; q, e.g. s3x3_minmax24_q15), by class, q and submodel, with the merged spam hv and s35
submodels last; within a submodel, bins in the reference code's loop order.

Checked against the University of Innsbruck's numpy port of the DDE Lab's SRM.m and spam686.m (`sealwatch`
2025.9, its python backend) on 64×64 crops of the held-out photographs: the same 106 submodel names and
dimensions, values equal to 1.4e-7 (the reference stores single precision); SPAM identical. The test file holds
reference values of a synthetic image. sealwatch itself is not a dependency: it imports torch at import time and
extracts one grey image at a time.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from jaxsteg import errors

NAMES = ("spam", "spam_pooled", "srmq1", "srm")
SPAM_T = 3
SRM_T = 2
CHUNK = 128            # Images per vectorised pass (bounded memory: ~0.3 GB at peak for 64×64 RGB SRM).
_BINS = (2 * SRM_T + 1) ** 4

# -- SPAM -----------------------------------------------------------------------------------------------------


def _spam_hist(x: np.ndarray, first, second, third) -> np.ndarray:
  """Normalised 7³ histogram (N, C, 343) of the truncated differences taken at three aligned windows."""
  t, b = SPAM_T, 2 * SPAM_T + 1
  code = (np.clip(first, -t, t) + t) + b * (np.clip(second, -t, t) + t) + b * b * (np.clip(third, -t, t) + t)
  n, c = x.shape[:2]
  code = code.reshape(n * c, -1) + (np.arange(n * c) * b ** 3)[:, None]
  counts = np.bincount(code.ravel(), minlength=n * c * b ** 3).reshape(n, c, b ** 3).astype(np.float64)
  return counts / counts.sum(-1, keepdims=True)


_S = slice
# (L, C, R) windows of the difference array of each direction pair, as in spam686.m: the forward direction counts
# (D_{j+2}, D_{j+1}, D_j); its reverse counts −D with the first and last windows swapped.
_SPAM_WINDOWS = (((_S(None), _S(2, None)), (_S(None), _S(1, -1)), (_S(None), _S(None, -2))),            # →
                 ((_S(2, None), _S(None)), (_S(1, -1), _S(None)), (_S(None, -2), _S(None))),            # ↓
                 ((_S(2, None), _S(2, None)), (_S(1, -1), _S(1, -1)), (_S(None, -2), _S(None, -2))),    # ↘
                 ((_S(None, -2), _S(2, None)), (_S(1, -1), _S(1, -1)), (_S(2, None), _S(None, -2))))    # ↗


def _spam(x: np.ndarray) -> np.ndarray:
  """Second-order SPAM of int32 images (N, C, H, W): (N, C · 686), per channel [F1 (axes), F2 (diagonals)]."""
  diffs = (x[..., :, :-1] - x[..., :, 1:], x[..., :-1, :] - x[..., 1:, :],
           x[..., :-1, :-1] - x[..., 1:, 1:], x[..., 1:, :-1] - x[..., :-1, 1:])
  hists = []
  for d, (w_l, w_c, w_r) in zip(diffs, _SPAM_WINDOWS):
    first, mid, last = d[(Ellipsis, *w_l)], d[(Ellipsis, *w_c)], d[(Ellipsis, *w_r)]
    hists += [_spam_hist(x, first, mid, last), _spam_hist(x, -last, -mid, -first)]
  f1, f2 = sum(hists[:4]) / 4.0, sum(hists[4:]) / 4.0
  return np.concatenate([f1, f2], axis=-1).reshape(len(x), -1)


# -- SRM residual classes: the sets of directional residuals each submodel takes the min / max of --------------
# A submodel: (name, kind, terms); a term: (scan 'h' | 'v', residual sets); a set of one residual is the residual.
_A = {"RU": "R U RU LU", "RD": "R D RD RU", "LD": "L D LD RD", "LU": "L U LU LD"}      # minmax48, first sets
_B = {"RU": "R U RU RD", "RD": "R D RD LD", "LD": "L D LD LU", "LU": "L U LU RU"}      # minmax48, second sets
_C = ("R U RU LU RD", "R D RD RU LD", "L D LD RD LU", "L U LU LD RU")                  # minmax54
_ODD = (   # 1st and 3rd order: residuals R L U D RU LU RD LD (the direction the kernel points to)
    ("minmax22h", "minmax", (("h", ("R L",)), ("v", ("U D",)))),
    ("minmax34h", "minmax", (("h", ("L U R", "R D L")), ("v", ("U R D", "D L U")))),
    ("spam14h", "spam", (("h", ("R",)), ("v", ("U",)))),
    ("spam14v", "spam", (("v", ("R",)), ("h", ("U",)))),
    ("minmax22v", "minmax", (("v", ("R L",)), ("h", ("U D",)))),
    ("minmax24", "minmax", (("h", ("R U", "R D", "L U", "L D")), ("v", ("R U", "R D", "L U", "L D")))),
    ("minmax34v", "minmax", (("v", ("L U R", "R D L")), ("h", ("U R D", "D L U")))),
    ("minmax41", "minmax", (("h", ("R L U D",)), ("v", ("R L U D",)))),
    ("minmax34", "minmax", (("h", ("R U RU", "R D RD", "L U LU", "L D LD")),
                            ("v", ("R U RU", "R D RD", "L U LU", "L D LD")))),
    ("minmax48h", "minmax", (("h", (_A["RU"], _A["LD"], _B["RD"], _B["LU"])),
                             ("v", (_A["RD"], _A["LU"], _B["RU"], _B["LD"])))),
    ("minmax48v", "minmax", (("h", (_A["RD"], _A["LU"], _B["RU"], _B["LD"])),
                             ("v", (_A["RU"], _A["LD"], _B["RD"], _B["LU"])))),
    ("minmax54", "minmax", (("h", _C), ("v", _C))),
)
_EVEN = (  # 2nd order: residuals h v d m (horizontal, vertical, diagonal, minor-diagonal [1 −2 1])
    ("spam12h", "spam", (("h", ("h",)), ("v", ("v",)))),
    ("spam12v", "spam", (("v", ("h",)), ("h", ("v",)))),
    ("minmax21", "minmax", (("h", ("h v",)), ("v", ("h v",)))),
    ("minmax41", "minmax", (("h", ("h v d m",)), ("v", ("h v d m",)))),
    ("minmax32", "minmax", (("h", ("h v m", "h v d")), ("v", ("h v m", "h v d")))),
    ("minmax24h", "minmax", (("h", ("m h", "d h")), ("v", ("m v", "d v")))),
    ("minmax24v", "minmax", (("v", ("m h", "d h")), ("h", ("m v", "d v")))),
)
_EDGE = (  # 3×3 (KB) and 5×5 (KV): the full kernel k and its edge halves u b l r (up, bottom, left, right)
    ("spam11", "spam", (("h", ("k",)), ("v", ("k",)))),
    ("spam14v", "spam", (("v", ("u", "b")), ("h", ("l", "r")))),
    ("spam14h", "spam", (("h", ("u", "b")), ("v", ("l", "r")))),
    ("minmax24", "minmax", (("h", ("u l", "b r", "u r", "b l")), ("v", ("u l", "b r", "u r", "b l")))),
    ("minmax22h", "minmax", (("h", ("u b",)), ("v", ("r l",)))),
    ("minmax22v", "minmax", (("v", ("u b",)), ("h", ("r l",)))),
    ("minmax41", "minmax", (("h", ("u l b r",)), ("v", ("u l b r",)))),
)

# Kernels as {(dy, dx): weight}; directional ones given pointing right / up, the others by rotation.
_DIRS = {"R": (0, 1), "L": (0, -1), "U": (-1, 0), "D": (1, 0), "RU": (-1, 1), "LU": (-1, -1), "RD": (1, 1),
         "LD": (1, -1)}
_EDGE3_UP = {(-1, 0): 2, (0, -1): 2, (0, 1): 2, (-1, -1): -1, (-1, 1): -1, (0, 0): -4}
_EDGE5_UP = {(0, -1): 8, (-1, 0): 8, (0, 1): 8, (-1, -1): -6, (-1, 1): -6, (0, -2): -2, (0, 2): -2, (-2, 0): -2,
             (-1, -2): 2, (-2, -1): 2, (-2, 1): 2, (-1, 2): 2, (-2, -2): -1, (-2, 2): -1, (0, 0): -12}
_KB = {(dy, dx): (-1, 2, -1, 2, -4, 2, -1, 2, -1)[3 * (dy + 1) + dx + 1] for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
_KV_ROWS = ((-1, 2, -2, 2, -1), (2, -6, 8, -6, 2), (-2, 8, -12, 8, -2), (2, -6, 8, -6, 2), (-1, 2, -2, 2, -1))
_KV = {(dy, dx): _KV_ROWS[dy + 2][dx + 2] for dy in range(-2, 3) for dx in range(-2, 3)}


def _rotate(kernel: dict, turns: int) -> dict:
  """The kernel turned clockwise by 90° `turns` times (up → right → bottom → left)."""
  for _ in range(turns):
    kernel = {(dx, -dy): w for (dy, dx), w in kernel.items()}
  return kernel


def _apply(x: np.ndarray, kernel: dict, margin: int) -> np.ndarray:
  """Σ w · X(p + offset) over the interior (a `margin` border dropped): int32 (N, C, H − 2m, W − 2m)."""
  h, w = x.shape[-2:]
  out = np.zeros(x.shape[:-2] + (h - 2 * margin, w - 2 * margin), np.int32)
  for (dy, dx), wt in kernel.items():
    out += wt * x[..., margin + dy:h - margin + dy, margin + dx:w - margin + dx]
  return out


def _residuals(x: np.ndarray, family: str) -> tuple[dict, int]:
  """({residual name: int32 array}, central coefficient c) of one residual class."""
  if family == "1st":
    return {k: _apply(x, {d: 1, (0, 0): -1}, 1) for k, d in _DIRS.items()}, 1
  if family == "3rd":
    return {k: _apply(x, {(2 * dy, 2 * dx): -1, (dy, dx): 3, (0, 0): -3, (-dy, -dx): 1}, 2)
            for k, (dy, dx) in _DIRS.items()}, 3
  if family == "2nd":
    lines = {"h": (0, 1), "v": (1, 0), "d": (1, 1), "m": (-1, 1)}
    return {k: _apply(x, {(dy, dx): 1, (0, 0): -2, (-dy, -dx): 1}, 1) for k, (dy, dx) in lines.items()}, 2
  up, full, margin, c = ((_EDGE3_UP, _KB, 1, 4) if family == "3x3" else (_EDGE5_UP, _KV, 2, 12))
  out = {k: _apply(x, _rotate(up, t), margin) for k, t in (("u", 0), ("r", 1), ("b", 2), ("l", 3))}
  out["k"] = _apply(x, full, margin)
  return out, c


def _quantise(r: np.ndarray, q: float) -> np.ndarray:
  """clip(round(r / q), −T, T) + T as int16 in 0..4, rounding halves away from zero, in exact integer arithmetic
  (2q is an integer for every SRM step)."""
  q2 = round(2 * q)
  mag = np.minimum((4 * np.abs(r) + q2) // (2 * q2), SRM_T)
  return (np.where(r < 0, -mag, mag) + SRM_T).astype(np.int16)


def _cooc(arrays: list[np.ndarray], scan: str) -> np.ndarray:
  """Normalised order-4 co-occurrence (N, 625) of quantised arrays (N, C, h, w), pooled over arrays and channels;
  bin a0 + 5 a1 + 25 a2 + 125 a3 for 4 consecutive values a0..a3 along the scan (the reference's column-major)."""
  n = len(arrays[0])
  if scan == "v":
    arrays = [np.swapaxes(a, -1, -2) for a in arrays]
  size = int(np.prod(arrays[0].shape[1:-1])) * (arrays[0].shape[-1] - 3)
  code = np.empty((n, len(arrays) * size), np.intp)
  offsets = (np.arange(n, dtype=np.intp) * _BINS)[:, None]
  for i, a in enumerate(arrays):
    pair = a[..., :-1] + 5 * a[..., 1:]                        # int16: a0 + 5 a1 (0..24)
    np.add((pair[..., :-2] + 25 * pair[..., 2:]).reshape(n, -1), offsets, out=code[:, i * size:(i + 1) * size])
  counts = np.bincount(code.ravel(), minlength=n * _BINS).reshape(n, _BINS).astype(np.float64)
  return counts / np.maximum(counts.sum(1, keepdims=True), 1.0)


@functools.cache
def _symmetry_groups(kind: str) -> tuple[np.ndarray, np.ndarray]:
  """(bins sorted by output bin, start of each output bin in that order): the bins the reference merges, output
  bins in the reference's loop order. 'spam' merges a bin with its sign flip, its reversal and their combination
  (625 → 169), 'dir' with its reversal (625 → 325)."""
  t = SRM_T
  index = {v: (v[0] + t) + 5 * (v[1] + t) + 25 * (v[2] + t) + 125 * (v[3] + t)
           for v in itertools.product(range(-t, t + 1), repeat=4)}
  group = np.full(_BINS, -1)
  m = 0
  if kind == "spam":
    group[index[(0, 0, 0, 0)]], m = 0, 1
  for v in itertools.product(range(-t, t + 1), repeat=4):
    rev = v[::-1]
    if kind == "spam":
      if group[index[v]] >= 0 or not any(v):
        continue
      members = {v, tuple(-a for a in v)}
      if v != rev and group[index[rev]] < 0:
        members |= {rev, tuple(-a for a in rev)}
    else:
      if group[index[v]] >= 0:
        continue
      members = {v, rev}
    for u in members:
      group[index[u]] = m
    m += 1
  order = np.argsort(group, kind="stable")
  return order, np.searchsorted(group[order], np.arange(m))


def _symmetrise(hist: np.ndarray, kind: str) -> np.ndarray:
  order, starts = _symmetry_groups(kind)
  return np.add.reduceat(hist[:, order], starts, axis=1)


def _submodel(q_arrays: dict, kind: str, terms, cache: dict) -> np.ndarray:
  """One symmetrised submodel (N, 169 or 325) from the quantised residuals of its class (`cache`: min / max of
  residual sets already computed for this class and q)."""
  def combine(names: str, op) -> np.ndarray:
    if (names, op) not in cache:
      parts = [q_arrays[k] for k in names.split()]
      cache[names, op] = parts[0] if len(parts) == 1 else op.reduce(parts)
    return cache[names, op]

  def hist(op) -> np.ndarray:
    return sum(_cooc([combine(s, op) for s in sets], scan) for scan, sets in terms)

  if kind == "spam":
    return _symmetrise(hist(np.minimum), "spam")
  f_min, f_max = hist(np.minimum), hist(np.maximum)
  return _symmetrise(f_min + f_max[:, ::-1], "dir")   # Flipping every index of a bin reverses the flat bins.


_CLASSES = (("1st", _ODD, (1.0, 2.0)), ("2nd", _EVEN, (1.0, 1.5, 2.0)), ("3rd", _ODD, (1.0, 1.5, 2.0)),
            ("3x3", _EDGE, (1.0, 1.5, 2.0)), ("5x5", _EDGE, (1.0, 1.5, 2.0)))


def _plan(name: str) -> list[tuple[str, float]]:
  """(residual class, q) of each block, in output order."""
  return [(family, q) for family, _, qs in _CLASSES for q in (qs[:1] if name == "srmq1" else qs)]


_PREFIX = {"1st": "s1", "2nd": "s2", "3rd": "s3", "3x3": "s3x3", "5x5": "s5x5"}


def _srm_blocks(x: np.ndarray, name: str) -> dict[str, np.ndarray]:
  """{submodel: (N, dim)} of the SRM variant `name`, merged as in the reference (spam14h + v, s35), named as in
  the reference (e.g. s1_minmax22h_q1, s3x3_spam14hv_q15, s35_spam11_q2)."""
  out: dict[str, np.ndarray] = {}
  specs = {family: subs for family, subs, _ in _CLASSES}
  for family, q in _plan(name):
    residuals, c = _residuals(x, family)
    quantised, cache = {k: _quantise(r, q * c) for k, r in residuals.items()}, {}
    for sub, kind, terms in specs[family]:
      out[f"{_PREFIX[family]}_{sub}_q{q:g}".replace(".", "")] = _submodel(quantised, kind, terms, cache)
  for key in [k for k in out if k.split("_")[1] in ("spam12h", "spam14h")]:
    out[key.replace("h_q", "hv_q")] = np.concatenate([out.pop(key), out.pop(key.replace("h_q", "v_q"))], axis=1)
  for key in [k for k in out if k.startswith("s3x3_spam11")]:
    out[key.replace("s3x3", "s35")] = np.concatenate([out.pop(key), out.pop(key.replace("s3x3", "s5x5"))], axis=1)
  return out


@functools.cache
def srm_layout(name: str = "srm", size: int = 16) -> tuple[tuple[str, int], ...]:
  """(submodel name, dimension) in output order of `extract(name, ...)`, name 'srm' or 'srmq1' (computed once,
  on a blank image)."""
  blocks = _srm_blocks(np.zeros((1, 1, size, size), np.int32), name)
  return tuple((k, v.shape[1]) for k, v in blocks.items())


def _check(images: np.ndarray) -> np.ndarray:
  images = np.asarray(images)
  if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"features take uint8 images (N, H, W, C) with C 1 or 3, got {images.dtype} {images.shape}")
  if min(images.shape[1:3]) < 8:
    raise ValueError(f"images {images.shape[1:3]} are too small for rich-model features (at least 8×8)")
  return images


def extract(name: str, images: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
  """Features (N, D) float64 of uint8 images (N, H, W, C): `name` one of NAMES."""
  if name not in NAMES:
    raise errors.ConfigError(f"unknown feature set {name!r}; use one of {', '.join(NAMES)}")
  images = _check(images)
  out = []
  for start in range(0, len(images), chunk):
    x = np.moveaxis(images[start:start + chunk], -1, 1).astype(np.int32)    # (n, C, H, W)
    if name == "spam":
      out.append(_spam(x))
    elif name == "spam_pooled":
      out.append(_spam(x).reshape(len(x), x.shape[1], 686).mean(1))   # Equal-size channels: pooled counts.
    else:
      out.append(np.concatenate(list(_srm_blocks(x, name).values()), axis=1))
  if not out:
    return np.zeros((0, dimension(name, images.shape[-1])))
  return np.concatenate(out)


def dimension(name: str, channels: int = 3) -> int:
  """Feature dimension of `name` for images of `channels` channels."""
  if name.startswith("spam"):
    return 686 * (channels if name == "spam" else 1)
  return sum(d for _, d in srm_layout(name))
