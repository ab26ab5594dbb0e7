"""`jaxsteg hide-text` / `reveal-text`: exact round trips and every failure as one stderr line, exit 2, no file.

The command's plumbing (capacity, passphrases, PNG files, error mapping) is tested with a real bit-payload
workdir whose networks are swapped for an ideal least-significant-bit channel, so that the outcome does not
depend on how well a seconds-long training run learned; one test runs the real (untrained) networks.
"""

import base64
import os
import re

import numpy as np
from PIL import Image
import pytest

from configs import bits_embedded
from jaxsteg import cli
from jaxsteg.payload import channel
from jaxsteg.payload import codec
from jaxsteg.payload import spec


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, initialised_run):
  """A bits workdir with a freshly initialised checkpoint (no training needed to test the commands)."""
  return initialised_run(bits_embedded.get_config("tiny"), tmp_path_factory.mktemp("bits_run"))


def _lsb_hide(config, params, cover, bits, fns=None):
  del params, fns
  out = cover.copy()
  d = config.model.depth
  out[..., :d] = (out[..., :d] & 0xFE) | bits
  return out


def _lsb_reveal(config, params, container, fns=None):
  del params, fns
  return (container[..., :config.model.depth] & 1).astype(np.float32) * 2.0 - 1.0


@pytest.fixture()
def ideal(monkeypatch):
  monkeypatch.setattr(channel, "hide_bits", _lsb_hide)
  monkeypatch.setattr(channel, "reveal_logits", _lsb_reveal)


@pytest.fixture()
def files(tmp_path):
  from skimage import data  # pylint: disable=g-import-not-at-top
  cover = tmp_path / "cover.png"
  Image.fromarray(np.ascontiguousarray(data.astronaut()[100:196, 150:246])).save(cover)   # 96x96
  pw = tmp_path / "pw.txt"
  pw.write_text("correct horse battery staple\n")
  return tmp_path, str(cover), str(pw)


def _run(argv, capsys):
  code = cli.main(argv)
  out = capsys.readouterr()
  return code, out.out, out.err


@pytest.mark.parametrize("text", ["héllo wörld ✓ 日本語 🙂\nline two", ""])
@pytest.mark.parametrize("encrypt", [False, True])
def test_round_trip(workdir, files, ideal, capsys, text, encrypt):
  tmp, cover, pw = files
  stego = str(tmp / "stego.png")
  extra = ["--passphrase-file", pw] if encrypt else []
  code, out, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", text, "--out", stego,
                         *extra], capsys)
  assert code == 0, err
  assert out.strip() == stego
  code, out, err = _run(["reveal-text", "--workdir", workdir, "--stego", stego, *extra], capsys)
  assert code == 0, err
  assert out == (text + "\n" if text else "")


def test_text_file_and_out_file(workdir, files, ideal, capsys):
  tmp, cover, _ = files
  message = tmp / "message.txt"
  message.write_text("Ünïcödé file\nwith two lines\n", encoding="utf-8")
  stego, back = str(tmp / "s.png"), str(tmp / "back.txt")
  assert _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text-file", str(message), "--out",
               stego], capsys)[0] == 0
  assert _run(["reveal-text", "--workdir", workdir, "--stego", stego, "--out", back], capsys)[0] == 0
  assert open(back, encoding="utf-8").read() == message.read_text(encoding="utf-8")


def _hide(workdir, cover, stego, capsys, *extra, text="meet at noon"):
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", text, "--out", stego,
                       *extra], capsys)
  assert code == 0, err


def test_wrong_or_missing_passphrase(workdir, files, ideal, capsys):
  tmp, cover, pw = files
  stego = str(tmp / "stego.png")
  _hide(workdir, cover, stego, capsys, "--passphrase-file", pw)
  wrong = tmp / "wrong.txt"
  wrong.write_text("correct horse battery stapler\n")
  code, out, err = _run(["reveal-text", "--workdir", workdir, "--stego", stego, "--passphrase-file",
                         str(wrong)], capsys)
  assert code == 2 and out == "" and "authentication failed" in err and err.count("\n") == 1
  code, out, err = _run(["reveal-text", "--workdir", workdir, "--stego", stego], capsys)
  assert code == 2 and out == "" and "--passphrase-file" in err


@pytest.mark.parametrize("encrypt", [False, True])
def test_tampered_container(workdir, files, ideal, capsys, encrypt):
  """Rewrite the body's bits (the header left readable): authentication fails, no text comes out."""
  tmp, cover, pw = files
  stego = str(tmp / "stego.png")
  extra = ["--passphrase-file", pw] if encrypt else []
  _hide(workdir, cover, stego, capsys, *extra)
  img = np.asarray(Image.open(stego)).copy()
  bits = img[..., :2] & 1
  perm, _ = codec._layout(bits.size)  # pylint: disable=protected-access
  flat = bits.reshape(-1)
  body_positions = perm[spec.HEADER_REGION_BITS:]
  rng = np.random.default_rng(0)
  hit = body_positions[rng.random(body_positions.size) < 0.4]
  flat[hit] ^= 1
  img[..., :2] = (img[..., :2] & 0xFE) | flat.reshape(bits.shape)
  Image.fromarray(img).save(stego)
  code, out, err = _run(["reveal-text", "--workdir", workdir, "--stego", stego, *extra], capsys)
  assert code == 2 and out == "" and "authentication failed" in err


def test_no_message_in_a_plain_image(workdir, files, ideal, capsys):
  _, cover, _ = files
  code, out, err = _run(["reveal-text", "--workdir", workdir, "--stego", cover], capsys)
  assert code == 2 and out == "" and "no message found" in err


def test_over_capacity(workdir, files, ideal, capsys):
  tmp, cover, pw = files
  stego = tmp / "stego.png"
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", "x" * 0 + os.urandom(
      4000).hex(), "--passphrase-file", pw, "--out", str(stego)], capsys)
  assert code == 2 and "this cover carries at most" in err and err.count("\n") == 1
  assert not stego.exists()


def test_capacity_follows_the_error_rate_probed_on_the_cover(workdir, files, monkeypatch, capsys, tmp_path):
  """hide-text sizes the code to the bit errors the model makes on this cover: more errors, less capacity."""
  _, cover, _ = files
  # ≈ 780 bytes after compression: fits a clean 96x96 channel (≈ 1600), not one with 8 % errors (≈ 670).
  text = base64.b64encode(os.urandom(750)).decode()
  monkeypatch.setattr(channel, "hide_bits", _lsb_hide)
  monkeypatch.setattr(channel, "reveal_logits", _lsb_reveal)
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", text, "--out",
                       str(tmp_path / "a.png")], capsys)
  assert code == 0, err

  def noisy_reveal(config, params, container, fns=None):
    logits = _lsb_reveal(config, params, container)
    flip = np.random.default_rng(0).random(logits.shape) < 0.08
    return np.where(flip, -logits, logits)

  monkeypatch.setattr(channel, "reveal_logits", noisy_reveal)
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", text, "--out",
                       str(tmp_path / "b.png")], capsys)
  assert code == 2 and re.search(r"[78]\.\d\d% raw bit errors measured on it", err) and "at most" in err
  assert not (tmp_path / "b.png").exists()


def test_real_untrained_networks_refuse_cleanly(workdir, files, capsys):
  """An untrained model cannot carry text: a clear error, exit 2, and no container written."""
  tmp, cover, _ = files
  stego = tmp / "stego.png"
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", "hi", "--out",
                       str(stego)], capsys)
  assert code == 2 and err.startswith("jaxsteg: error:") and err.count("\n") == 1
  assert not stego.exists()


@pytest.mark.parametrize("case", ["missing_cover", "not_png", "empty_passphrase", "binary_text_file",
                                  "both_texts", "missing_workdir"])
def test_bad_inputs(workdir, files, capsys, case):
  tmp, cover, pw = files
  out = str(tmp / "o.png")
  argv = ["hide-text", "--workdir", workdir, "--cover", cover, "--text", "hi", "--out", out]
  if case == "missing_cover":
    argv[4] = str(tmp / "nope.png")
  elif case == "not_png":
    argv[-1] = out = str(tmp / "o.jpg")
  elif case == "empty_passphrase":
    empty = tmp / "empty.txt"
    empty.write_text("\n")
    argv += ["--passphrase-file", str(empty)]
  elif case == "binary_text_file":
    binary = tmp / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    argv[5:7] = ["--text-file", str(binary)]
  elif case == "missing_workdir":
    argv[2] = str(tmp / "no_run")
  if case == "both_texts":
    argv += ["--text-file", pw]
    with pytest.raises(SystemExit) as e:   # argparse: usage error, exit 2.
      cli.main(argv)
    assert e.value.code == 2
  else:
    code, _, err = _run(argv, capsys)
    assert code == 2 and err.startswith("jaxsteg: error:") and err.count("\n") == 1, err
  assert not os.path.exists(out)


def test_survive_plans_for_the_error_rate_after_the_distortion(workdir, files, ideal, capsys):
  """`--survive SPEC`: the capacity and the read-back are those after that distortion. An LSB channel survives
  the PNG round trip and loses every bit to JPEG: refused, naming the distortion; a typo is one line, exit 2."""
  tmp, cover, _ = files
  stego = tmp / "stego.png"
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", "noon", "--survive", "png",
                       "--out", str(stego)], capsys)
  assert code == 0, err
  assert _run(["reveal-text", "--workdir", workdir, "--stego", str(stego)], capsys)[1] == "noon\n"
  stego.unlink()
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", "noon", "--survive",
                       "jpeg:90", "--out", str(stego)], capsys)
  assert code == 2 and "measured on it after jpeg:90" in err and "at most" in err and err.count("\n") == 1
  assert not stego.exists()
  code, _, err = _run(["hide-text", "--workdir", workdir, "--cover", cover, "--text", "noon", "--survive",
                       "jpg:90", "--out", str(stego)], capsys)
  assert code == 2 and "--survive 'jpg:90'" in err and "jpeg" in err and not stego.exists()
