"""`jaxsteg serve`: the embed/extract service for one or more workdirs (`jaxsteg.serve`).

  jaxsteg serve --workdir W [--workdir W2 ...] [--host 127.0.0.1] [--port 8321] [--token-file F]

Binds 127.0.0.1 by default. Any other address needs --token-file (a file whose one line is the token; every
/api/ call must then send `Authorization: Bearer <token>`): the server refuses to start without it.
"""

from __future__ import annotations

import ipaddress
import sys

from jaxsteg import errors
from jaxsteg import files
from jaxsteg.cli import common

DEFAULT_PORT = 8321
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
  if host == "localhost":
    return True
  try:
    return ipaddress.ip_address(host.strip("[]")).is_loopback
  except ValueError:
    return False   # A host name other than localhost: it may resolve anywhere.


def read_token(path: str | None, host: str) -> str | None:
  """The token in `path` (None without a file); `UserError` for a non-loopback host without one."""
  if path is None:
    if not is_loopback(host):
      raise errors.UserError(f"--host {host} is not a loopback address: anyone who can reach it could use the "
                             f"models; give --token-file FILE (clients then send `Authorization: Bearer <token>`)")
    return None
  token = files.read_passphrase_file(path).strip()
  if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
    raise errors.UserError(f"the token in {path!r} must be at least {MIN_TOKEN_CHARS} characters without spaces "
                           f"(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))' > {path}`)")
  return token


def check_args(args) -> str | None:
  """Checks what can be checked before the (slow) model loading; returns the token."""
  if not 0 <= args.port <= 65535:
    raise errors.UserError(f"--port must be between 0 and 65535, got {args.port}")
  if args.max_upload_mb <= 0:
    raise errors.UserError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
  if args.warmup_size < 0:
    raise errors.UserError(f"--warmup-size must be 0 (off) or a number of pixels, got {args.warmup_size}")
  return read_token(args.token_file, args.host)


def cmd_serve(args) -> None:
  from werkzeug import serving  # pylint: disable=g-import-not-at-top
  from jaxsteg.serve import app as app_lib, models as models_lib  # pylint: disable=g-import-not-at-top,multiple-imports
  token = check_args(args)
  common.enable_compilation_cache()
  models = models_lib.load_models(args.workdir, args.step)
  if args.warmup_size:
    for m in models.values():
      models_lib.warm_up(m, args.warmup_size)
  app = app_lib.create_app(models, token=token, max_upload_bytes=int(args.max_upload_mb * 2**20))
  try:
    server = serving.make_server(args.host, args.port, app, threaded=True)
  except OSError as e:
    raise errors.UserError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from e
  print(f"jaxsteg: serving {', '.join(sorted(models))} on http://{args.host}:{server.port}/", file=sys.stderr,
        flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    server.server_close()


def add_commands(sub) -> None:
  s = sub.add_parser("serve", help="serve embed/extract over HTTP for workdirs, with a page at /")
  s.add_argument("--workdir", required=True, action="append",
                 help="a run to serve (repeat for several; each is named by its folder's name)")
  s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --token-file)")
  s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
  s.add_argument("--token-file", help="file holding the API token (one line); required off loopback")
  s.add_argument("--max-upload-mb", type=float, default=32.0, help="largest request accepted, MiB (default 32)")
  s.add_argument("--warmup-size", type=int, default=256,
                 help="compile each model for covers of this side at start (default 256; 0: off)")
  common.add_step_option(s)
  s.set_defaults(fn=cmd_serve)
