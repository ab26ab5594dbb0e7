"""Differentiable distortions: forward passes against the real ones on photographs, gradients that are not zero,
jit, grey and odd sizes, spec errors, one-of draws and batch sharding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxsteg import errors, sharding
from jaxsteg.attacks import differentiable as diff
from jaxsteg.attacks import distortions, jpeg_transform

KEY = jax.random.key(0)
EVERY_LAYER = ("jpeg:50", "jpegmask", "noise:2", "blur:1", "resize:0.5", "crop:0.9", "cropout:0.5", "dropout:0.5",
               "round8", "png", "identity")


@pytest.fixture(scope="module")
def photos():
  """Six 64 x 64 uint8 crops of scikit-image's photographs (shipped with the package, offline)."""
  from skimage import data  # pylint: disable=g-import-not-at-top
  spots = {"astronaut": [(40, 200), (300, 100)], "chelsea": [(100, 150), (200, 300)],
           "coffee": [(100, 200), (250, 400)]}
  return np.stack([getattr(data, name)()[y:y + 64, x:x + 64] for name, yx in spots.items() for y, x in yx])


def psnr(a, b):
  mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
  return 10 * np.log10(255.0 ** 2 / mse)


def ours(spec, photos, rounding="ste"):
  """The differentiable layer (jitted: one compile costs less than eager's many) on uint8 photos, 0..255 scale."""
  return np.asarray(jax.jit(diff.get(spec, rounding))(jnp.asarray(photos, jnp.float32) / 255.0, KEY)) * 255.0


# Measured on these crops: jpeg 47.3 / 47.8 / 48.1 / 47.1 dB at q 95 / 90 / 75 / 50 (libjpeg's islow integer
# DCT against our float one), grey 52-56 dB; replicated instead of triangular chroma upsampling loses 4-5 dB.
@pytest.mark.parametrize("quality", [95, 90, 75, 50])
def test_jpeg_forward_is_close_to_libjpeg(photos, quality):
  spec = f"jpeg:{quality}"
  real = distortions.get(spec).apply(photos)
  assert psnr(ours(spec, photos), real) >= 44, spec
  # The real codec's damage itself is 32-38 dB: ours must be far closer to it than to the original.
  assert abs(psnr(ours(spec, photos), photos) - psnr(real, photos)) < 0.3


def test_cubic_rounding_is_close_to_straight_through_and_grey_jpeg_matches(photos):
  ste, cubic = ours("jpeg:75", photos), ours("jpeg:75", photos, "cubic")
  assert psnr(ste, cubic) >= 45     # measured 52.3 / 51.3 / 49.6 / 48.2 dB at q 95 / 90 / 75 / 50
  assert psnr(cubic, distortions.get("jpeg:75").apply(photos)) >= 42   # measured 46.6 dB
  grey = photos[..., :1]
  assert psnr(ours("jpeg:90", grey), distortions.get("jpeg:90").apply(grey)) >= 48   # measured 51.9 dB


def test_quantization_tables_are_libjpegs():
  luminance, chrominance = jpeg_transform.quantization_tables(50)
  assert luminance[0, 0] == 16 and chrominance[7, 7] == 99
  luminance, chrominance = jpeg_transform.quantization_tables(75)   # scale 50: (16 * 50 + 50) // 100 = 8
  assert luminance[0, 0] == 8 and luminance[0, 1] == 6 and chrominance[0, 0] == 9
  assert jpeg_transform.quantization_tables(100)[0].max() == 1
  assert jpeg_transform.quantization_tables(1)[0].max() == 255 and jpeg_transform.quantization_tables(10)[0][0, 0] == 80
  assert jpeg_transform.zigzag()[:6] == [(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2)]
  assert jpeg_transform.zigzag_mask(25).sum() == 25 and jpeg_transform.zigzag_mask(9)[0, 3] == 1 and jpeg_transform.zigzag_mask(9)[3, 0] == 0


@pytest.mark.parametrize("spec, floor", [("blur:1", 80), ("resize:0.5", 48), ("crop:0.9", 50)])
def test_filters_match_the_real_ones(photos, spec, floor):
  # Measured: blur 96.8 dB (one rounding tie of 73 728 values), resize 53.1 dB, crop 55.6 dB.
  assert psnr(ours(spec, photos), distortions.get(spec).apply(photos)) >= floor


@pytest.mark.parametrize("sigma", [1, 2, 5])
def test_noise_has_the_asked_standard_deviation(sigma):
  grey = jnp.full((4, 64, 64, 3), 128 / 255.0)
  layer = diff.get(f"noise:{sigma}")
  out = layer(grey, KEY)
  measured = np.std(np.asarray(out, np.float64) - 128 / 255.0) * 255
  assert abs(measured - sigma) < 0.1 * sigma
  assert np.array_equal(out, layer(grey, KEY)) and not np.array_equal(out, layer(grey, jax.random.key(1)))


@pytest.mark.parametrize("spec, rounding", [(s, "ste") for s in EVERY_LAYER] + [("jpeg:50", "cubic")])
def test_every_layer_has_a_finite_non_zero_gradient(photos, spec, rounding):
  x = jnp.asarray(photos[:2, :32, :32], jnp.float32) / 255.0
  cover = jnp.asarray(photos[2:4, :32, :32], jnp.float32) / 255.0
  w = jax.random.normal(jax.random.key(7), x.shape)
  layer = diff.get(spec, rounding)
  grad = jax.jit(jax.grad(lambda v: jnp.sum(layer(v, KEY, cover) * w)))(x)
  norm = float(jnp.linalg.norm(grad))
  assert np.isfinite(np.asarray(grad)).all() and norm > 0.01 * float(jnp.linalg.norm(w)), (spec, norm)


def test_straight_through_rounding_passes_the_gradient_unchanged():
  x = jnp.linspace(0.01, 0.99, 48).reshape(1, 4, 4, 3)
  assert np.allclose(jax.grad(lambda v: jnp.sum(diff.round8(v) * 3.0))(x), 3.0)
  assert np.allclose(diff.round8(x) * 255, np.round(np.asarray(x) * 255))
  assert float(jax.grad(lambda v: jpeg_transform.round_cubic(v))(1.25)) == pytest.approx(3 * 0.25 ** 2)


def test_jit_equals_eager(photos):
  x = jnp.asarray(photos[:2], jnp.float32) / 255.0
  for spec in ("jpeg:75", "noise:2"):
    layer = diff.get(spec)
    eager, jitted = np.asarray(layer(x, KEY)), np.asarray(jax.jit(layer)(x, KEY))
    # Fused float arithmetic may land a value on the other side of a rounding tie: at most one level, rarely.
    assert np.abs(eager - jitted).max() <= 1 / 255 + 1e-6 and np.mean(eager != jitted) < 1e-3, spec


@pytest.mark.parametrize("channels", [1, 3])
def test_grey_and_odd_sizes_keep_the_shape(photos, channels):
  x = jnp.asarray(photos[:1, :60, :44, :channels], jnp.float32) / 255.0
  for spec in ("jpeg:50", "jpegmask", "blur:1", "resize:0.5", "crop:0.9", "cropout:0.5"):   # the spatial ones
    out = jax.jit(diff.get(spec))(x, KEY, x[::-1])
    assert out.shape == x.shape and out.dtype == x.dtype, spec
    assert 0 <= float(out.min()) and float(out.max()) <= 1, spec
  jpeg = np.asarray(jax.jit(diff.get("jpeg:90"))(x)) * 255
  # Edge-padded to 64 x 48 inside: measured 47.5 dB (RGB) and 53.0 dB (grey) on the six crops.
  assert psnr(jpeg, distortions.get("jpeg:90").apply(photos[:1, :60, :44, :channels])) > 42


def test_cropout_and_dropout_mix_container_and_cover():
  container, cover = jnp.ones((4, 32, 32, 3)), jnp.zeros((4, 32, 32, 3))
  kept = diff.get("cropout:0.25")(container, KEY, cover)
  fractions = np.asarray(kept[..., 0].mean(axis=(1, 2)))
  assert np.all(np.abs(fractions - 0.25) < 0.06), fractions
  assert np.array_equal(kept[..., 0], kept[..., 2])            # whole pixels
  kept = diff.get("dropout:0.7")(container, KEY, cover)
  assert abs(float(kept.mean()) - 0.7) < 0.03
  assert float(diff.get("dropout:0.7")(container, KEY).mean()) == pytest.approx(float(kept.mean()))


@pytest.mark.parametrize("spec, message", [
    ("gamma:2", "known families: jpeg:QUALITY, jpegmask, noise:SIGMA"),
    ("jpeg", "needs its quality: jpeg:QUALITY, an integer in 1..100"),
    ("jpeg:abc", "must be a number"),
    ("jpeg:101", "integer in 1..100"),
    ("jpeg:0", "integer in 1..100"),
    ("noise:-1", "a number > 0"),
    ("resize:2", "<= 1"),
    ("dropout:0", "a number > 0 and <= 1"),
    ("jpegmask:3", "takes no strength"),
    (3, "named by a string"),
])
def test_a_bad_spec_is_a_config_error_that_says_what_is_known(spec, message):
  with pytest.raises(errors.ConfigError, match=message):
    diff.get(spec)


def test_names_rounding_and_keys():
  assert set(distortions.families()) <= set(diff.names())
  assert {"jpegmask", "cropout", "dropout", "round8", "identity"} <= set(diff.names())
  assert diff.get("JPEG:90").name == "jpeg:90" and diff.get("blur:1.5").strength == 1.5
  with pytest.raises(errors.ConfigError, match="ste, cubic"):
    diff.get("jpeg:90", rounding="floor")
  with pytest.raises(ValueError, match="random"):
    diff.get("noise:2")(jnp.zeros((1, 8, 8, 3)))
  with pytest.raises(ValueError, match="float images"):
    diff.get("png")(jnp.zeros((1, 8, 8, 3), jnp.uint8))


def test_apply_one_of_draws_different_layers_under_jit_and_apply_all_composes(photos):
  x = jnp.asarray(photos[:2, :32, :32], jnp.float32) / 255.0
  specs = ("jpeg:50", "blur:2", "crop:0.5")
  candidates = [np.asarray(jax.jit(diff.get(s))(x)) for s in specs]
  one_of = jax.jit(lambda v, k: diff.apply_one_of(specs, v, k))
  picked = set()
  for seed in range(8):
    out = np.asarray(one_of(x, jax.random.key(seed)))
    errs = [np.abs(out - c).max() for c in candidates]
    assert min(errs) <= 1 / 255 + 1e-6, errs
    picked.add(int(np.argmin(errs)))
  assert len(picked) >= 2, picked
  cover = x[::-1]
  mixed = jax.jit(lambda v, k, c: diff.apply_one_of(("cropout:0.5", "dropout:0.5"), v, k, c))(x, KEY, cover)
  assert mixed.shape == x.shape and np.all((mixed == x) | (mixed == cover))
  both = diff.apply_all(("blur:1", "noise:2"), x, KEY)
  first, second = jax.random.split(KEY)
  assert np.array_equal(both, diff.get("noise:2")(diff.get("blur:1")(x, first), second))


def test_sharded_over_the_batch_equals_unsharded(photos):
  mesh = sharding.make_mesh()
  n = mesh.devices.size
  x = jnp.asarray(np.resize(photos, (n,) + photos.shape[1:]), jnp.float32) / 255.0
  batch = sharding.batch_sharding(mesh)
  for spec in ("jpeg:75", "noise:2"):
    layer = jax.jit(diff.get(spec))
    plain = np.asarray(layer(x, KEY))
    out = layer(jax.device_put(x, batch), KEY)
    assert out.sharding.is_equivalent_to(NamedSharding(mesh, P(sharding.DATA_AXIS)), out.ndim), spec
    assert np.abs(np.asarray(out) - plain).max() <= 1 / 255 + 1e-6 and np.mean(np.asarray(out) != plain) < 1e-3
