"""`jaxsteg keys` / `encrypt` / `decrypt` on real files, and bad input: one stderr line, exit 2, no output file."""

import os

import jax
import numpy as np
from PIL import Image
import pytest

from configs import encryptgan_embedded
from jaxsteg import checkpoint
from jaxsteg import cli
from jaxsteg import sharding
from jaxsteg import train
from jaxsteg.tasks import encryptgan as task


@pytest.fixture(scope="module")
def gan_workdir(tmp_path_factory):
  """An EncryptGAN run directory as training writes it (config.json + an Orbax checkpoint), untrained."""
  config = encryptgan_embedded.get_config("tiny")
  config.num_devices = 1
  workdir = tmp_path_factory.mktemp("gan_cli")
  checkpoint.write_config(workdir, config.to_json())
  example = jax.tree.map(np.asarray, task.dummy_batch(config, config.batch_size))
  setup = train.make_setup(config, example)
  state = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)(
      jax.random.key(0), sharding.to_global(example, setup.batch_sharding))
  ckpt = checkpoint.Checkpointer(workdir / "checkpoints", async_save=False)
  ckpt.save(1, state, {}, force=True)
  ckpt.close()
  return str(workdir)


def _photo(h, w, which=0):
  from skimage import data  # pylint: disable=g-import-not-at-top
  img = (data.astronaut(), data.coffee(), data.chelsea())[which]
  return np.ascontiguousarray(img[100:100 + h, 100:100 + w])


@pytest.fixture()
def files(tmp_path):
  paths = {}
  for name, (h, w, which) in {"cover": (29, 37, 0), "y": (29, 37, 1), "msg": (12, 12, 2)}.items():
    paths[name] = str(tmp_path / f"{name}.png")
    Image.fromarray(_photo(h, w, which)).save(paths[name])
  return tmp_path, paths


def _run(argv, capsys):
  code = cli.main(argv)
  return code, capsys.readouterr().err


def test_keys_encrypt_decrypt_round_trip(gan_workdir, files, capsys):
  tmp, p = files
  pub, priv = str(tmp / "pub.png"), str(tmp / "priv.png")
  code, err = _run(["keys", "--workdir", gan_workdir, "--public-source", p["y"], "--public-out", pub,
                    "--private-source", p["cover"], "--private-out", priv], capsys)
  assert code == 0, err
  disguise, recovered, message = str(tmp / "disguise.png"), str(tmp / "recovered.png"), str(tmp / "m.png")
  code, err = _run(["encrypt", "--workdir", gan_workdir, "--cover", p["cover"], "--message", p["msg"],
                    "--public-key", pub, "--private-key", priv, "--out", disguise], capsys)
  assert code == 0, err
  assert "message pasted as 14x14" in err     # Tiny: 8 on 16 -> half the shorter side (29 -> 14).
  code, err = _run(["decrypt", "--workdir", gan_workdir, "--disguise", disguise, "--private-key", priv,
                    "--out", recovered, "--message-out", message], capsys)
  assert code == 0, err
  for path, size in ((pub, (37, 29)), (priv, (37, 29)), (disguise, (37, 29)), (recovered, (37, 29)),
                     (message, (14, 14))):
    with Image.open(path) as im:
      assert im.format == "PNG" and im.mode == "RGB" and im.size == size, path
  # The same computation as the task's numpy API (what evaluation measures).
  run_key = np.asarray(Image.open(priv))
  assert run_key.dtype == np.uint8 and run_key.min() == 0 and run_key.max() == 255   # Min-max scaled maps.


def test_key_of_another_size_is_resized_with_a_note(gan_workdir, files, capsys):
  tmp, p = files
  small = str(tmp / "small_y.png")
  Image.fromarray(_photo(16, 20, 1)).save(small)
  pub = str(tmp / "pub_small.png")
  assert _run(["keys", "--workdir", gan_workdir, "--public-source", small, "--public-out", pub], capsys)[0] == 0
  code, err = _run(["encrypt", "--workdir", gan_workdir, "--cover", p["cover"], "--message", p["msg"],
                    "--public-key", pub, "--private-key", p["y"], "--out", str(tmp / "d.png")], capsys)
  assert code == 0 and "public key" in err and "resized from 20x16 to 37x29" in err


@pytest.mark.parametrize("case", [
    "no_workdir", "missing_cover", "not_an_image", "jpeg_out", "missing_out_dir", "half_key_pair", "no_keys",
    "same_key_outs", "too_small", "message_too_big", "bad_message_size", "decrypt_same_outs",
    "missing_private_key",
])
def test_bad_input_one_line_exit_2_no_output(case, gan_workdir, files, capsys):
  tmp, p = files
  out = str(tmp / "out.png")
  garbage = tmp / "garbage.png"
  garbage.write_bytes(b"not an image")
  tiny_img = str(tmp / "tiny.png")
  Image.fromarray(_photo(4, 4)).save(tiny_img)
  enc = ["encrypt", "--workdir", gan_workdir, "--cover", p["cover"], "--message", p["msg"], "--public-key", p["y"],
         "--private-key", p["cover"]]
  argv = {
      "no_workdir": enc[:1] + ["--workdir", str(tmp / "nope")] + enc[3:] + ["--out", out],
      "missing_cover": enc[:4] + [str(tmp / "missing.png")] + enc[5:] + ["--out", out],
      "not_an_image": enc[:6] + [str(garbage)] + enc[7:] + ["--out", out],
      "jpeg_out": enc + ["--out", str(tmp / "out.jpg")],
      "missing_out_dir": enc + ["--out", str(tmp / "no" / "out.png")],
      "half_key_pair": ["keys", "--workdir", gan_workdir, "--public-source", p["y"]],
      "no_keys": ["keys", "--workdir", gan_workdir],
      "same_key_outs": ["keys", "--workdir", gan_workdir, "--public-source", p["y"], "--public-out", out,
                        "--private-source", p["cover"], "--private-out", out],
      "too_small": ["keys", "--workdir", gan_workdir, "--public-source", tiny_img, "--public-out", out],
      "message_too_big": enc + ["--message-size", "30", "--out", out],
      "bad_message_size": enc + ["--message-size", "0", "--out", out],
      "missing_private_key": enc[:-2] + ["--out", out],   # The tiny config's encoder takes K(x) too.
      "decrypt_same_outs": ["decrypt", "--workdir", gan_workdir, "--disguise", p["y"], "--private-key", p["y"],
                            "--out", out, "--message-out", out],
  }[case]
  code, err = _run(argv, capsys)
  assert code == 2, err
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("jaxsteg: error: "), err
  assert not os.path.exists(out) and not os.path.exists(str(tmp / "out.jpg"))
  assert not [f for f in os.listdir(tmp) if f.startswith(".tmp")]


def test_other_families_runs_are_refused(tmp_path, capsys, monkeypatch):
  """A non-EncryptGAN workdir gets one clear line (checked after loading, before any output)."""
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top

  class _Run:
    config = encryptgan_embedded.get_config("tiny")
  _Run.config.task = "deepstego"
  monkeypatch.setattr(inference, "load_run", lambda workdir: _Run)
  src = tmp_path / "s.png"
  Image.fromarray(_photo(16, 16)).save(src)
  out = str(tmp_path / "k.png")
  code, err = _run(["keys", "--workdir", str(tmp_path), "--public-source", str(src), "--public-out", out], capsys)
  assert code == 2 and "EncryptGAN run" in err and not os.path.exists(out)
