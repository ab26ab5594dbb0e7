"""Files written whole or not at all, and the rules for reading the text files users give.

Every file jaxsteg writes (PNGs, JSON, markdown, plots, revealed text) goes through `atomic_write` or
`atomic_target`: the bytes go to a temporary name in the destination's directory, which is renamed over the
destination only once complete, so an interrupted or failed write leaves no partial file and never clobbers
the previous one. Local temporary files are created with mode 0666 minus the umask, like any other file
(not 0600 as `tempfile.mkstemp` would). Remote paths (gs://...) go through `etils.epath`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Iterator

from etils import epath

from jaxsteg import errors


def _is_remote(path) -> bool:
  return "://" in str(path)


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[str]:
  """Yields a temporary local path next to `path` to write to; renames it over `path` on success, removes it on
  failure. For writers that want a file name (matplotlib's savefig, PIL's save)."""
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  tmp = os.path.join(directory, f".tmp-{secrets.token_hex(6)}-{os.path.basename(path)}")
  fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # The umask applies, as for open().
  os.close(fd)
  try:
    yield tmp
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def atomic_write(path: str | os.PathLike | epath.Path, data: bytes | str) -> None:
  """Writes `data` (str: UTF-8) to `path` through a temporary file and a rename."""
  raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
  if _is_remote(path):
    target = epath.Path(path)
    tmp = target.parent / f".tmp-{secrets.token_hex(6)}-{target.name}"
    tmp.write_bytes(raw)
    tmp.replace(target)
    return
  with atomic_target(path) as tmp:
    with open(tmp, "wb") as f:
      f.write(raw)


def read_text_file(path: str, what: str) -> str:
  """The whole content of a UTF-8 text file, exactly; `UserError` naming `what` when it cannot be read."""
  if not os.path.exists(path):
    raise errors.UserError(f"{what} {path!r} does not exist")
  if os.path.isdir(path):
    raise errors.UserError(f"{what} {path!r} is a directory, not a file")
  try:
    with open(path, "rb") as f:
      data = f.read()
    return data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise errors.UserError(f"{what} {path!r} is not UTF-8 text ({e})") from e
  except OSError as e:
    raise errors.UserError(f"cannot read {what} {path!r}: {e.strerror}") from e


PASSPHRASE_FILE_RULE = ("the passphrase is the file's one line (UTF-8); a final line break (\\n or \\r\\n) is "
                        "ignored")


def read_passphrase_file(path: str) -> str:
  """The passphrase in `path`: its one line, without a final line break (`echo pw > f` works).

  A file with more than one line is refused rather than guessed at (is the second line part of it?).
  """
  text = read_text_file(path, "passphrase file")
  for end in ("\r\n", "\n", "\r"):
    if text.endswith(end):
      text = text[:-len(end)]
      break
  if not text:
    raise errors.UserError(f"passphrase file {path!r} is empty; write the passphrase in it")
  if "\n" in text or "\r" in text:
    raise errors.UserError(f"passphrase file {path!r} has more than one line; {PASSPHRASE_FILE_RULE}")
  return text
