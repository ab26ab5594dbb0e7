"""Bits in JPEG's domain (`jaxsteg.tasks.bits_dct`): the lattice, real JPEG at the design quality, exact text
through `hide-text --survive jpeg:90` and Pillow's JPEG, and the field shape every bit-channel caller uses."""

import base64

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest

from configs import bits_dct_embedded
from jaxsteg import cli
from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.attacks import distortions
from jaxsteg.attacks import jpeg_transform
from jaxsteg.models import dct_qim
from jaxsteg.payload import channel
from jaxsteg.payload import codec
from jaxsteg.tasks import bits_dct


@pytest.fixture(scope="module")
def photo():
  from skimage import data  # pylint: disable=g-import-not-at-top
  return np.ascontiguousarray(data.astronaut()[20:156, 140:270])   # 136 x 130: the width not a multiple of 8


@pytest.fixture(scope="module")
def config():
  return bits_dct_embedded.get_config()


def _params(config):
  return {"decoder": dct_qim.init_params(bits_dct.bit_depth(config))}


def test_units_are_odd_multiples_of_the_design_steps():
  cells, units = dct_qim.slot_table(90, 44, 4.0)
  table = jpeg_transform.quantization_tables(90)[0]
  q = np.asarray([table[c] for c in cells])
  ratio = units / q
  assert len(set(cells)) == 44 and np.all(units >= 4.0)
  assert np.allclose(ratio, np.round(ratio)) and np.all(np.round(ratio) % 2 == 1)
  assert units[cells.index((0, 1))] == 6.0        # q = 2 at quality 90: three times the step.
  assert np.all(np.diff(units) >= 0)               # The cheapest coefficients first.


def test_field_shape_follows_whole_blocks(config):
  task = tasks.get_task("bits_dct")
  assert isinstance(task, tasks.BitChannel)
  assert tasks.bit_shape(task, config, 136, 130) == (17, 16, 44)
  assert tasks.bits_per_pixel(task, config) == pytest.approx(44 / 64)
  assert tasks.bit_shape(tasks.get_task("bits"), bits_dct_embedded.bits_base.get_base(depth=2, steps=1),
                         5, 7) == (5, 7, 2)


def test_bits_survive_real_jpeg_at_the_design_quality_only(config, photo):
  params = _params(config)
  bits = np.random.default_rng(0).integers(0, 2, (1,) + bits_dct.bit_shape(config, *photo.shape[:2]))
  container = channel.hide_bits_batch(config, params, photo[None], bits)
  assert metrics.psnr(photo[None] / 255.0, container / 255.0)[0] > 36.0
  assert np.array_equal(container[0, :, 128:], photo[:, 128:])   # Outside whole blocks: untouched.

  def ber(spec):
    received = distortions.get(spec).apply(container, seed=0)
    return float(np.mean((channel.reveal_logits_batch(config, params, received) > 0) != (bits > 0)))

  assert ber("png") < 0.002
  assert ber("jpeg:90") < 0.05
  assert ber("jpeg:75") > 0.2   # Laid out for quality 90: a coarser JPEG rounds onto the other bit's points.


def test_text_planned_for_jpeg90_comes_back_exactly(config, photo):
  cover = photo[:128, :128]
  text = "JPEG-proof: ünïcödé ✓ " * 12
  container, _, measured = channel.hide_text(config, _params(config), cover, text, "pw",
                                             survive=distortions.get("jpeg:90"))
  assert measured < 0.05
  received = distortions.get("jpeg:90").apply(container[None], seed=0)[0]
  assert codec.decode_text(channel.reveal_logits(config, _params(config), received), passphrase="pw") == text


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, config, initialised_run):
  return initialised_run(config, tmp_path_factory.mktemp("bits_dct_run"))


def test_hide_text_survive_then_pillow_jpeg(workdir, photo, tmp_path, capsys):
  cover, stego, jpeg = tmp_path / "cover.png", tmp_path / "stego.png", tmp_path / "stego.jpg"
  Image.fromarray(photo).save(cover)
  text = "a message that must outlive a JPEG re-save " * 4
  assert cli.main(["hide-text", "--workdir", workdir, "--cover", str(cover), "--text", text, "--survive",
                   "jpeg:90", "--out", str(stego)]) == 0, capsys.readouterr().err
  Image.open(stego).save(jpeg, quality=90)   # Pillow's own JPEG, as a user would re-save it.
  capsys.readouterr()
  assert cli.main(["reveal-text", "--workdir", workdir, "--stego", str(jpeg)]) == 0
  assert capsys.readouterr().out == text + "\n"
  big = base64.b64encode(np.random.default_rng(0).bytes(3000)).decode()   # Does not compress.
  code = cli.main(["hide-text", "--workdir", workdir, "--cover", str(cover), "--text", big, "--survive",
                   "jpeg:90", "--out", str(tmp_path / "big.png")])
  err = capsys.readouterr().err
  assert code == 2 and "0.6875 bits per pixel" in err and "after jpeg:90" in err and err.count("\n") == 1
  assert not (tmp_path / "big.png").exists()
  Image.fromarray(photo[:6, :40]).save(tmp_path / "strip.png")   # Not one whole 8x8 block.
  code = cli.main(["hide-text", "--workdir", workdir, "--cover", str(tmp_path / "strip.png"), "--text", "hi",
                   "--out", str(tmp_path / "strip.out.png")])
  err = capsys.readouterr().err
  assert code == 2 and "too small to hold any bits" in err and err.count("\n") == 1
  assert not (tmp_path / "strip.out.png").exists()


def test_bad_layout_is_a_config_error(config):
  bad = bits_dct_embedded.get_config()
  bad.model.slots = 65
  from jaxsteg import errors  # pylint: disable=g-import-not-at-top
  with pytest.raises(errors.ConfigError, match="model.slots"):
    bits_dct.init_state(bad, jax.random.key(0), bits_dct.dummy_batch(bad, 1))
  del config


@pytest.mark.parametrize("level", [128, 250])
def test_flat_and_near_white_covers_carry_their_bits(level):
  """Near the end of the range clipping keeps half the coefficients from their points; they go to the bit's
  point on the other side (without that, 12.6 % of the bits of a flat 250 cover are wrong)."""
  kw = {"quality": 90, "slots": 44, "min_unit": 4.0}
  bits = np.random.default_rng(0).integers(0, 2, (1, 8, 8, 44))
  cover = np.full((1, 64, 64, 3), float(level), np.float32)
  container = np.asarray(dct_qim.embed(jnp.asarray(cover), bits, margin=1.2, iterations=4, **kw))
  assert container.min() >= 0 and container.max() <= 255 and np.array_equal(container, np.round(container))
  logits = np.asarray(dct_qim.read(container, np.zeros(44, np.float32), **kw))
  assert np.mean((logits > 0) != (bits > 0)) < 0.01
