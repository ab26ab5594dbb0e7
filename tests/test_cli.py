"""`jaxsteg hide` / `reveal` on real files, and every bad-input case: one stderr line, exit 2, no output file."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from jaxsteg import cli


def _photo(h, w, seed=0):
  from skimage import data  # pylint: disable=g-import-not-at-top
  img = data.astronaut() if seed == 0 else data.coffee()
  return np.ascontiguousarray(img[:h, :w])


@pytest.fixture()
def files(tmp_path):
  cover = tmp_path / "cover.png"
  Image.fromarray(_photo(48, 40)).save(cover)
  secret = tmp_path / "secret.jpg"
  Image.fromarray(_photo(64, 64, seed=1)).save(secret, quality=90)
  return tmp_path, str(cover), str(secret)


def _run(argv, capsys):
  code = cli.main(argv)
  err = capsys.readouterr().err
  return code, err


def test_odd_sizes_keep_their_exact_size(tiny_run, files, capsys):
  """The 'fast' networks work on 2x2 blocks; odd sizes are padded inside and cropped back."""
  _, workdir, _ = tiny_run
  tmp, _, secret = files
  cover = tmp / "odd.jpg"
  Image.fromarray(_photo(33, 47)).save(cover, quality=95)
  stego, revealed = tmp / "odd_stego.png", tmp / "odd_revealed.png"
  assert _run(["hide", "--workdir", workdir, "--cover", str(cover), "--secret", secret, "--out", str(stego)],
              capsys)[0] == 0
  assert _run(["reveal", "--workdir", workdir, "--stego", str(stego), "--out", str(revealed)], capsys)[0] == 0
  for path in (stego, revealed):
    with Image.open(path) as im:
      assert im.size == (47, 33)


def test_hide_reveal_round_trip(tiny_run, files, capsys):
  _, workdir, _ = tiny_run
  tmp, cover, secret = files
  stego, revealed = str(tmp / "stego.png"), str(tmp / "revealed.png")
  code, err = _run(["hide", "--workdir", workdir, "--cover", cover, "--secret", secret, "--out", stego], capsys)
  assert code == 0, err
  assert "resized from 64x64 to the cover's 40x48" in err
  with Image.open(stego) as im:
    assert im.format == "PNG" and im.mode == "RGB" and im.size == (40, 48)
  code, err = _run(["reveal", "--workdir", workdir, "--stego", stego, "--out", revealed], capsys)
  assert code == 0, err
  with Image.open(revealed) as im:
    assert im.mode == "RGB" and im.size == (40, 48)
  assert not [p for p in os.listdir(tmp) if p.startswith(".tmp")]


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_other_modes_are_converted_with_a_note(tiny_run, files, capsys, mode):
  _, workdir, _ = tiny_run
  tmp, _, secret = files
  cover = tmp / f"cover_{mode}.png"
  Image.fromarray(_photo(32, 32)).convert(mode).save(cover)
  out = tmp / "out.png"
  code, err = _run(["hide", "--workdir", workdir, "--cover", str(cover), "--secret", secret, "--out", str(out)],
                   capsys)
  assert code == 0, err
  assert "note:" in err
  with Image.open(out) as im:
    assert im.mode == "RGB" and im.size == (32, 32)


def _bad(tmp, name, content: bytes):
  path = tmp / name
  path.write_bytes(content)
  return str(path)


@pytest.mark.parametrize("case", ["missing", "truncated", "not_an_image", "directory", "too_large"])
def test_bad_cover(tiny_run, files, capsys, case):
  _, workdir, _ = tiny_run
  tmp, good_cover, secret = files
  if case == "missing":
    cover = str(tmp / "nope.png")
  elif case == "truncated":
    cover = _bad(tmp, "trunc.png", open(good_cover, "rb").read()[:200])
  elif case == "not_an_image":
    cover = _bad(tmp, "notes.png", b"this is text, not a picture\n")
  elif case == "directory":
    cover = str(tmp)
  else:
    cover = str(tmp / "huge.png")
    Image.new("RGB", (4097, 4097)).save(cover)
  out = tmp / "out.png"
  code, err = _run(["hide", "--workdir", workdir, "--cover", cover, "--secret", secret, "--out", str(out)],
                   capsys)
  assert code == 2
  lines = [ln for ln in err.strip().splitlines() if ln.startswith("jaxsteg: error:")]
  assert len(lines) == 1, err
  assert "Traceback" not in err
  assert not out.exists()
  if case == "too_large":
    assert "downscale it first" in err


def test_workdir_without_checkpoint(files, capsys, tmp_path):
  tmp, cover, secret = files
  empty = tmp_path / "empty_run"
  empty.mkdir()
  (empty / "config.json").write_text("{}")
  out = tmp / "out.png"
  for workdir, expected in ((str(tmp_path / "absent"), "does not exist"), (str(empty), "no checkpoint")):
    code, err = _run(["hide", "--workdir", workdir, "--cover", cover, "--secret", secret, "--out", str(out)],
                     capsys)
    assert code == 2 and expected in err, err
  assert not out.exists()


@pytest.mark.parametrize("out_name", ["missing_dir/out.png", ".", "out.jpg"])
def test_unwritable_or_lossy_output(tiny_run, files, capsys, out_name):
  _, workdir, _ = tiny_run
  tmp, cover, secret = files
  out = str(tmp / out_name)
  code, err = _run(["hide", "--workdir", workdir, "--cover", cover, "--secret", secret, "--out", out], capsys)
  assert code == 2 and "jaxsteg: error:" in err
  assert not os.path.isfile(out)


def test_reveal_bad_stego(tiny_run, files, capsys):
  _, workdir, _ = tiny_run
  tmp, _, _ = files
  stego = _bad(tmp, "stego.png", b"\x89PNG\r\n\x1a\n broken")
  out = tmp / "revealed.png"
  code, err = _run(["reveal", "--workdir", workdir, "--stego", stego, "--out", str(out)], capsys)
  assert code == 2 and "not a readable image" in err
  assert not out.exists()


def test_console_script_exit_code(tmp_path):
  """The installed entry point: a user mistake gives exit 2 and one line, no traceback."""
  env = dict(os.environ, XLA_FLAGS="")
  proc = subprocess.run([sys.executable, "-m", "jaxsteg.cli", "reveal", "--workdir", str(tmp_path / "none"),
                         "--stego", str(tmp_path / "none.png"), "--out", str(tmp_path / "r.png")],
                        capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.dirname(__file__)),
                        check=False)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines() == [f"jaxsteg: error: stego image {str(tmp_path / 'none.png')!r} "
                                              "does not exist"]


def test_the_command_path_imports_no_dataset_library():
  """What `jaxsteg hide` / `hide-text` import to load a run, plan a message and hide: no dataset library (grain,
  TFDS, which the task modules need only to make training and held-out data), no scipy.stats (slower to
  import than planning takes), no plotting, no web server."""
  code = ("import sys\n"
          "from jaxsteg import cli, inference, operations\n"
          "from jaxsteg.tasks import bits, deepstego\n"
          "from jaxsteg.payload import channel, codec, plan\n"
          "plan.capacity(400, 640, 2, ber=plan.max_ber(1600, 640 * 400 * 2), encrypted=True)\n"
          "unwanted = ('grain', 'tensorflow_datasets', 'tensorflow', 'scipy.stats', 'matplotlib', 'flask')\n"
          "print(sorted(m for m in unwanted if m in sys.modules))\n")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                        cwd=os.path.dirname(os.path.dirname(__file__)))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip() == "[]", proc.stdout
