"""`jaxsteg hide/reveal --passphrase[-file]` on a passphrase-mode KeyMixer run: right, wrong, missing, misplaced."""

import json
import os

import numpy as np
from PIL import Image
import pytest

from jaxsteg import cli

PASSPHRASE = "tr0ub4dor & 3 horses"
@pytest.fixture(scope="module")
def keyed_run(trained_tiny):
  """The session's :tiny KeyMixer run (passphrase key mode)."""
  return trained_tiny("keymixer_embedded").workdir


@pytest.fixture()
def files(tmp_path):
  from skimage import data  # pylint: disable=g-import-not-at-top
  cover, secret = tmp_path / "cover.png", tmp_path / "secret.png"
  Image.fromarray(np.ascontiguousarray(data.astronaut()[:24, :32])).save(cover)
  Image.fromarray(np.ascontiguousarray(data.coffee()[:24, :32])).save(secret)
  pw = tmp_path / "pw.txt"
  pw.write_text(PASSPHRASE + "\n", encoding="utf-8")
  wrong = tmp_path / "wrong.txt"
  wrong.write_text("not the passphrase\n", encoding="utf-8")
  return tmp_path, str(cover), str(secret), str(pw), str(wrong)


def _run(argv, capsys):
  code = cli.main(argv)
  captured = capsys.readouterr()
  return code, captured.out, captured.err


def _hide(workdir, files, out, extra, capsys):
  _, cover, secret, _, _ = files
  return _run(["hide", "--workdir", workdir, "--cover", cover, "--secret", secret, "--out", out] + extra, capsys)


def test_right_and_wrong_passphrase(keyed_run, files, capsys):
  tmp, _, _, pw, wrong = files
  stego = str(tmp / "stego.png")
  code, out, err = _hide(keyed_run, files, stego, ["--passphrase-file", pw], capsys)
  assert code == 0, err
  assert PASSPHRASE not in out + err
  right_out, wrong_out, again = (str(tmp / n) for n in ("right.png", "wrong.png", "again.png"))
  assert _run(["reveal", "--workdir", keyed_run, "--stego", stego, "--out", right_out, "--passphrase-file", pw],
              capsys)[0] == 0
  assert _run(["reveal", "--workdir", keyed_run, "--stego", stego, "--out", wrong_out,
               "--passphrase-file", wrong], capsys)[0] == 0   # Not detectable: the output is noise.
  code, out, err = _run(["reveal", "--workdir", keyed_run, "--stego", stego, "--out", again,
                         "--passphrase", PASSPHRASE], capsys)
  assert code == 0 and PASSPHRASE not in out + err
  a, b, c = (np.asarray(Image.open(p)) for p in (right_out, wrong_out, again))
  assert a.shape == (24, 32, 3)
  np.testing.assert_array_equal(a, c)             # File and command line give the same key.
  assert np.mean(a != b) > 0.5                   # A wrong passphrase reveals something else.


def test_missing_passphrase_without_a_terminal_is_an_error(keyed_run, files, capsys, monkeypatch):
  tmp = files[0]
  class _Pipe:
    def isatty(self):
      return False

  monkeypatch.setattr("sys.stdin", _Pipe())
  out = tmp / "x.png"
  code, _, err = _hide(keyed_run, files, str(out), [], capsys)
  assert code == 2 and "needs a passphrase" in err and "--passphrase-file" in err
  assert err.count("\n") == 1 and not out.exists()


def test_prompts_in_a_terminal_without_echo(keyed_run, files, capsys, monkeypatch):
  tmp, _, _, pw, _ = files
  asked = []

  class _Tty:
    def isatty(self):
      return True

  monkeypatch.setattr("sys.stdin", _Tty())
  monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or PASSPHRASE)
  prompted, from_file = str(tmp / "p.png"), str(tmp / "f.png")
  assert _hide(keyed_run, files, prompted, [], capsys)[0] == 0
  assert len(asked) == 1 and PASSPHRASE not in asked[0]
  assert _hide(keyed_run, files, from_file, ["--passphrase-file", pw], capsys)[0] == 0
  np.testing.assert_array_equal(np.asarray(Image.open(prompted)), np.asarray(Image.open(from_file)))


@pytest.mark.parametrize("case", ["both", "empty_file", "missing_file", "empty_arg"])
def test_bad_passphrase_options(keyed_run, files, capsys, case):
  tmp, _, _, pw, _ = files
  empty = tmp / "empty.txt"
  empty.write_text("\n", encoding="utf-8")
  extra = {"both": ["--passphrase", "a", "--passphrase-file", pw],
           "empty_file": ["--passphrase-file", str(empty)],
           "missing_file": ["--passphrase-file", str(tmp / "nope.txt")],
           "empty_arg": ["--passphrase", ""]}[case]
  want = {"both": "not both", "empty_file": "is empty", "missing_file": "does not exist",
          "empty_arg": "is empty"}[case]
  out = tmp / "x.png"
  code, _, err = _hide(keyed_run, files, str(out), extra, capsys)
  assert code == 2 and want in err and err.startswith("jaxsteg: error:") and not out.exists()


def test_passphrase_for_a_model_without_one(files, capsys, tmp_path):
  workdir = tmp_path / "deepstego_run"
  workdir.mkdir()
  (workdir / "config.json").write_text(json.dumps({"task": "deepstego", "model": {"num_secrets": 1}}))
  _, _, _, pw, _ = files
  for extra in (["--passphrase", "x"], ["--passphrase-file", pw]):
    code, _, err = _run(["reveal", "--workdir", str(workdir), "--stego", files[1], "--out",
                         str(tmp_path / "r.png")] + extra, capsys)
    assert code == 2 and "takes no passphrase" in err
  assert not os.path.exists(tmp_path / "r.png")


def test_help_says_a_wrong_passphrase_gives_noise(capsys):
  with pytest.raises(SystemExit):
    cli.main(["reveal", "--help"])
  text = " ".join(capsys.readouterr().out.split())
  assert "wrong passphrase" in text and "noise" in text and "authentication tag" in text


def test_a_two_line_passphrase_file_is_refused_by_hide_as_by_hide_text(keyed_run, files, capsys):
  """One rule for every command (jaxsteg.files.read_passphrase_file): the passphrase is the file's one line."""
  tmp = files[0]
  two = tmp / "two.txt"
  two.write_text(PASSPHRASE + "\nsecond line\n", encoding="utf-8")
  out = tmp / "x.png"
  code, _, err = _hide(keyed_run, files, str(out), ["--passphrase-file", str(two)], capsys)
  assert code == 2 and "more than one line" in err and err.count("\n") == 1 and not out.exists()
  code, _, err = _run(["hide-text", "--workdir", keyed_run, "--cover", files[1], "--text", "hi", "--out", str(out),
                       "--passphrase-file", str(two)], capsys)
  assert code == 2 and "more than one line" in err and not out.exists()
