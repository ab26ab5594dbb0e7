"""Atomic writes (no partial file, the umask's mode) and the one passphrase-file rule."""

import os
import stat

import numpy as np
import pytest

from jaxsteg import errors
from jaxsteg import files
from jaxsteg import images as image_io


def test_atomic_write_replaces_whole_files_with_the_umask_mode(tmp_path):
  path = tmp_path / "a.json"
  files.atomic_write(path, "first")
  files.atomic_write(path, b"second")
  assert path.read_text() == "second"
  old = os.umask(0o022)
  try:
    files.atomic_write(path, "third")
    image_io.write_png(str(tmp_path / "x.png"), np.zeros((2, 2, 3), np.uint8))
  finally:
    os.umask(old)
  for p in (path, tmp_path / "x.png"):
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644, p   # Not mkstemp's 0600.
  assert sorted(os.listdir(tmp_path)) == ["a.json", "x.png"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
  path = tmp_path / "keep.txt"
  path.write_text("old")
  with pytest.raises(RuntimeError):
    with files.atomic_target(path) as tmp:
      with open(tmp, "w", encoding="utf-8") as f:
        f.write("half")
      raise RuntimeError("interrupted")
  assert path.read_text() == "old" and os.listdir(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("content, expected", [("pw\n", "pw"), ("pw\r\n", "pw"), ("pw", "pw"),
                                               (" two words \n", " two words "), ("caf\u00e9\n", "caf\u00e9")])
def test_passphrase_file_is_its_one_line(tmp_path, content, expected):
  path = tmp_path / "pw.txt"
  path.write_bytes(content.encode("utf-8"))
  assert files.read_passphrase_file(str(path)) == expected


@pytest.mark.parametrize("content, message", [("\n", "is empty"), ("", "is empty"),
                                              ("pw\nsecond line\n", "more than one line"),
                                              ("pw\n\n", "more than one line"), (b"\xff\xfe", "not UTF-8")])
def test_bad_passphrase_files(tmp_path, content, message):
  path = tmp_path / "pw.txt"
  path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
  with pytest.raises(errors.UserError, match=message):
    files.read_passphrase_file(str(path))
  with pytest.raises(errors.UserError, match="does not exist"):
    files.read_passphrase_file(str(tmp_path / "nope.txt"))
