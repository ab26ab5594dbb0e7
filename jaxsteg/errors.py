"""The one family of user-facing errors, and how every entry point reports them.

A `UserError` is a mistake the user can fix (a bad path, a config typo, a file that is not an image, a message
that does not fit): its message says what is wrong and what to do. Every entry point (`jaxsteg.main`, the
`jaxsteg` command, `python -m jaxsteg.security`) catches `UserError`, prints `<program>: error: <message>` on
stderr and exits with `EXIT_USAGE`, never with a traceback. Anything else is a bug and keeps its traceback.

The subclasses say where a problem comes from; they also derive from `ValueError` where callers have long
caught that.
"""

from __future__ import annotations

import sys

EXIT_USAGE = 2


class UserError(Exception):
  """A problem the user can fix; the message says what and how."""


class ConfigError(UserError, ValueError):
  """A mistake in a config, or in a file a config names (weights, datasets)."""


class RunError(UserError, ValueError):
  """A problem with a workdir: missing, no checkpoint, unreadable, or a model of the wrong kind."""


class ImageError(UserError, ValueError):
  """An image file that cannot be read or written."""


class PassphraseError(UserError, ValueError):
  """A passphrase that is missing, empty, or given to a model that takes none."""


class PayloadError(UserError):
  """A text payload that cannot be embedded or read (see `jaxsteg.payload.codec`)."""


def report(error: UserError, program: str = "") -> int:
  """Prints `<program>: error: <message>` (or `error: <message>`) on stderr; returns the exit code to use."""
  prefix = f"{program}: " if program else ""
  print(f"{prefix}error: {error}", file=sys.stderr)
  return EXIT_USAGE
