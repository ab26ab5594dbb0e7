"""The HTTP API and page of `jaxsteg serve` (Flask; multipart parsing is Werkzeug's).

  POST /api/embed    multipart: model (optional with one model), cover, secret (image) or text, passphrase
                     -> the 8-bit PNG container
  POST /api/extract  multipart: model, stego, passphrase, index (K-secret models) -> the revealed PNG, or the
                     exact text (text/plain; charset=utf-8)
  GET  /api/models   what each model does: family, capacity rule, passphrase
  GET  /healthz      {"ok": true, "models": [...]}
  GET  /             the page (plain HTML and JavaScript)

A user mistake is a 4xx with {"error": message}: the message the `jaxsteg` command prints for the same mistake
(the same functions raise it). With a token, every /api/ call needs `Authorization: Bearer <token>` (compared
in constant time). Form fields (passphrases, texts) are never logged; uploads are parsed in memory or in the
system's temporary folder (Werkzeug spools large parts there), and nothing else is written.
"""

from __future__ import annotations

import hmac
import importlib.resources
import logging

import flask
from werkzeug import exceptions as http_errors

from jaxsteg import errors
from jaxsteg import images as image_io
from jaxsteg import operations
from jaxsteg.serve import models as models_lib

DEFAULT_MAX_UPLOAD = 32 * 2**20   # bytes in one request
log = logging.getLogger("jaxsteg.serve")


def create_app(models: dict[str, models_lib.ServedModel], *, token: str | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD, max_pixels: int = operations.MAX_PIXELS) -> flask.Flask:
  """The Flask app serving `models` (from `models_lib.load_models`)."""
  app = flask.Flask("jaxsteg.serve")
  app.config["MAX_CONTENT_LENGTH"] = max_upload_bytes
  app.config["MAX_FORM_MEMORY_SIZE"] = max_upload_bytes
  page = importlib.resources.files("jaxsteg.serve").joinpath("page.html").read_text(encoding="utf-8")

  def fail(status: int, message: str):
    return flask.jsonify(error=message), status

  @app.errorhandler(errors.UserError)
  def user_error(e):
    return fail(404 if isinstance(e, UnknownModel) else 400, str(e))

  @app.errorhandler(http_errors.HTTPException)
  def http_error(e):
    if isinstance(e, http_errors.RequestEntityTooLarge):
      return fail(413, f"the request is larger than this server accepts ({max_upload_bytes} bytes); send "
                       f"smaller files")
    return fail(e.code or 400, e.description or e.name)

  @app.errorhandler(Exception)
  def internal_error(e):
    log.exception("internal error in %s %s", flask.request.method, flask.request.path)
    return fail(500, f"internal error ({type(e).__name__}); see the server's log")

  @app.before_request
  def check_token():
    if token is None or not flask.request.path.startswith("/api/"):
      return None
    given = flask.request.headers.get("Authorization", "")
    expected = f"Bearer {token}"
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
      return fail(401, "missing or wrong token: send the header `Authorization: Bearer <token>` with the token "
                       "in the server's --token-file")
    return None

  @app.get("/")
  def index():
    return flask.Response(page, mimetype="text/html")

  @app.get("/healthz")
  def healthz():
    return flask.jsonify(ok=True, models=sorted(models))

  @app.get("/api/models")
  def list_models():
    return flask.jsonify(models=[m.describe() for _, m in sorted(models.items())])

  @app.post("/api/embed")
  def embed():
    model = _model(models)
    cover, cover_name = _image("cover", max_pixels)
    secrets = [_decode(f, "secret", max_pixels) for f in flask.request.files.getlist("secret")]
    text = flask.request.form.get("text")
    survive = flask.request.form.get("survive") or None   # e.g. "jpeg:90": the text must outlive that re-save.
    container = model.embed(cover, cover_name, secrets or None, text, _passphrase(), survive)
    return _png(container, "container.png")

  @app.post("/api/extract")
  def extract():
    model = _model(models)
    stego, stego_name = _image("stego", max_pixels)
    index = flask.request.form.get("index", "0")
    if not index.isdigit():
      raise errors.UserError(f"index must be a whole number, got {index!r}")
    out = model.extract(stego, stego_name, _passphrase(), int(index))
    if isinstance(out, str):
      return flask.Response(out, mimetype="text/plain", content_type="text/plain; charset=utf-8")
    return _png(out, "revealed.png")

  return app


class UnknownModel(errors.UserError):
  """A request names a model this server does not serve."""


def _model(models: dict) -> models_lib.ServedModel:
  name = flask.request.form.get("model") or ""
  if not name:
    if len(models) == 1:
      return next(iter(models.values()))
    raise errors.UserError(f"this server serves several models; send the `model` field (one of {sorted(models)})")
  if name not in models:
    raise UnknownModel(f"no model named {name!r}; this server serves {sorted(models)}")
  return models[name]


def _passphrase() -> str | None:
  return flask.request.form.get("passphrase") or None


def _decode(upload, field: str, max_pixels: int) -> tuple[str, object]:
  name = upload.filename or field
  img, message = image_io.decode_rgb(upload.read(), what=f"{field} {name!r}", max_pixels=max_pixels)
  if message:
    operations.note(message)
  return name, img


def _image(field: str, max_pixels: int):
  upload = flask.request.files.get(field)
  if upload is None:
    raise errors.UserError(f"send the `{field}` image as a multipart file field")
  name, img = _decode(upload, field, max_pixels)
  return img, name


def _png(img, filename: str) -> flask.Response:
  response = flask.Response(image_io.encode_png(img), mimetype="image/png")
  response.headers["Content-Disposition"] = f"attachment; filename={filename}"
  return response
