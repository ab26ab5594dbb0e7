"""Structural LSB attacks (SPA, RS, WS): they recover the LSB replacement rate of embedded photographs."""

import numpy as np
import pytest

from jaxsteg import errors
from jaxsteg.attacks import embedders, pairs, structural


@pytest.fixture(scope="module")
def covers():
  crops, _ = pairs.photo_crops("train", 6, 128, seed=0)
  return crops


@pytest.mark.parametrize("name", ["spa", "rs", "ws"])
@pytest.mark.parametrize("rate", [0.0, 0.4, 1.0])
def test_each_attack_estimates_the_lsb_replacement_rate(covers, name, rate):
  stego = embedders.embed("lsbr", covers, rate, seed=1)
  estimates = structural.estimate(name, stego)
  assert estimates.shape == (len(covers),)
  assert abs(estimates.mean() - rate) < 0.1, (name, rate, estimates)


def test_lsb_matching_does_not_look_like_lsb_replacement(covers):
  # The attacks model LSB replacement's asymmetry; ±1 embedding at full rate reads as a small rate.
  stego = embedders.embed("lsbm", covers, 1.0, seed=1)
  for name in ("spa", "rs", "ws"):
    assert structural.estimate(name, stego).mean() < 0.5, name


def test_grey_and_colour_inputs_and_determinism(covers):
  stego = embedders.embed("lsbr", covers[:1], 0.4, seed=2)[0]
  for name, attack in structural.ATTACKS.items():
    grey = attack(stego[:, :, 1])
    assert np.isfinite(grey) and attack(stego) == attack(stego.copy()), name
  assert structural.ws(stego, bias_correction=True) != structural.ws(stego)


def test_bad_inputs_are_refused(covers):
  with pytest.raises(ValueError, match="uint8 image"):
    structural.spa(covers[0].astype(np.float32))
  with pytest.raises(ValueError, match="too small"):
    structural.rs(covers[0, :3, :3])
  with pytest.raises(errors.ConfigError, match="spa, rs, ws"):
    structural.estimate("chi2", covers)
