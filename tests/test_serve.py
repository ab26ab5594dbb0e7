"""`jaxsteg serve`'s API: the CLI's results and messages over HTTP, 4xx JSON errors, tokens, upload limits, and
16 concurrent requests against one model, each checked against the same request served alone."""

import concurrent.futures
import io
import json
import threading
import urllib.request

import numpy as np
from PIL import Image
import pytest
from werkzeug import serving

from configs import bits_embedded
from jaxsteg import images as image_io
from jaxsteg import operations
from jaxsteg.payload import channel
from jaxsteg.serve import app as app_lib
from jaxsteg.serve import models as models_lib

TOKEN = "t0ken-for-the-tests-0123456789"


def _png(img: np.ndarray) -> bytes:
  return image_io.encode_png(img)


def _image(seed: int, size: int = 32) -> np.ndarray:
  return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def _decode(data: bytes) -> np.ndarray:
  return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def bits_workdir(tmp_path_factory, initialised_run):
  return initialised_run(bits_embedded.get_config("tiny"), tmp_path_factory.mktemp("serve") / "bits_run")


@pytest.fixture(scope="module")
def models(tiny_run, bits_workdir):
  _, workdir, _ = tiny_run
  served = models_lib.load_models([workdir, bits_workdir])
  for m in served.values():
    models_lib.warm_up(m, 32)
  return served


@pytest.fixture()
def client(models):
  return app_lib.create_app(models).test_client()


@pytest.fixture()
def ideal(monkeypatch):
  """An ideal least-significant-bit channel in place of the untrained bit networks."""
  def hide(config, params, cover, bits, fns=None):
    out = cover.copy()
    d = config.model.depth
    out[..., :d] = (out[..., :d] & 0xFE) | bits
    return out

  def reveal(config, params, container, fns=None):
    return (container[..., :config.model.depth] & 1).astype(np.float32) * 2.0 - 1.0

  monkeypatch.setattr(channel, "hide_bits", hide)
  monkeypatch.setattr(channel, "reveal_logits", reveal)


def _files(**parts):
  return {k: (io.BytesIO(v), f"{k}.png") if isinstance(v, bytes) else v for k, v in parts.items()}


def test_health_and_models(client, models):
  assert client.get("/healthz").get_json() == {"ok": True, "models": sorted(models)}
  described = {m["name"]: m for m in client.get("/api/models").get_json()["models"]}
  assert described["bits_run"]["kind"] == "text" and "measured on the cover" in described["bits_run"]["capacity"]
  image = next(m for m in described.values() if m["kind"] == "image")
  assert image["secrets"] == 1 and image["passphrase"] == "none"
  page = client.get("/")
  assert page.status_code == 200 and b"api/embed" in page.data and page.mimetype == "text/html"


def test_embed_extract_match_the_cli(client, models):
  name = next(n for n, m in models.items() if m.kind == "image")
  run = models[name].run
  cover, secret = _image(1), _image(2, 40)   # The secret is resized to the cover's size, as by the CLI.
  r = client.post("/api/embed", data=_files(model=name, cover=_png(cover), secret=_png(secret)))
  assert r.status_code == 200 and r.mimetype == "image/png"
  container = _decode(r.data)
  assert np.array_equal(container, operations.hide_images(run, None, cover, [secret], ["s"], "c"))
  r = client.post("/api/extract", data=_files(model=name, stego=r.data))
  assert r.status_code == 200
  assert np.array_equal(_decode(r.data), operations.reveal_images(run, None, container, "s")[0])


def test_text_round_trip_is_exact(client, ideal):
  text = "exact text ✓ 日本語\nsecond line"
  r = client.post("/api/embed", data=_files(model="bits_run", cover=_png(_image(3, 64)), text=text,
                                            passphrase="correct horse"))
  assert r.status_code == 200, r.data
  r2 = client.post("/api/extract", data=_files(model="bits_run", stego=r.data, passphrase="correct horse"))
  assert r2.status_code == 200 and r2.headers["Content-Type"] == "text/plain; charset=utf-8"
  assert r2.data.decode("utf-8") == text
  r3 = client.post("/api/extract", data=_files(model="bits_run", stego=r.data, passphrase="wrong horse"))
  assert r3.status_code == 400 and "authentication failed" in r3.get_json()["error"]


def _bomb() -> bytes:
  import struct  # pylint: disable=g-import-not-at-top
  import zlib  # pylint: disable=g-import-not-at-top
  def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
  return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
          + chunk(b"IEND", b""))


@pytest.mark.parametrize("case,status,expected", [
    ("no_model", 400, "send the `model` field"),
    ("unknown_model", 404, "no model named 'nope'"),
    ("no_cover", 400, "send the `cover` image"),
    ("not_an_image", 400, "is not a readable image"),
    ("bomb", 400, "claims more pixels than PIL will decode"),
    ("too_many_pixels", 400, "downscale it first"),
    ("text_to_image_model", 400, "not `text`"),
    ("image_to_text_model", 400, "not a `secret` image"),
    ("passphrase_to_unkeyed", 400, "takes no passphrase"),
    ("bad_index", 400, "index must be a whole number"),
    ("untrained_text", 400, "this cover carries at most 0 bytes"),
    ("survive_on_image_model", 400, "applies to text models only"),
    ("survive_typo", 400, "--survive 'jpg:90'"),
    ("survive_untrained_text", 400, "measured on it after jpeg:90"),
])
def test_user_errors_are_json_4xx(client, models, case, status, expected):
  image_name = next(n for n, m in models.items() if m.kind == "image")
  cover = _png(_image(4))
  parts = {"model": image_name, "cover": cover, "secret": cover}
  path = "/api/embed"
  if case == "no_model":
    del parts["model"]
  elif case == "unknown_model":
    parts["model"] = "nope"
  elif case == "no_cover":
    del parts["cover"]
  elif case == "not_an_image":
    parts["cover"] = b"plain text, not a picture"
  elif case == "bomb":
    parts["cover"] = _bomb()
  elif case == "too_many_pixels":
    parts["cover"] = _png(np.zeros((8, 9, 3), np.uint8))
  elif case == "text_to_image_model":
    parts["text"] = "hello"
  elif case == "image_to_text_model":
    parts["model"] = "bits_run"
  elif case == "passphrase_to_unkeyed":
    parts["passphrase"] = "pw"
  elif case == "bad_index":
    path, parts = "/api/extract", {"model": image_name, "stego": cover, "index": "x"}
  elif case == "untrained_text":
    parts = {"model": "bits_run", "cover": cover, "text": "hi"}
  elif case == "survive_on_image_model":
    parts["survive"] = "jpeg:90"
  elif case == "survive_typo":
    parts = {"model": "bits_run", "cover": cover, "text": "hi", "survive": "jpg:90"}
  elif case == "survive_untrained_text":
    parts = {"model": "bits_run", "cover": cover, "text": "hi", "survive": "jpeg:90"}
  app = app_lib.create_app(models, max_pixels=64) if case == "too_many_pixels" else None
  r = (app.test_client() if app else client).post(path, data=_files(**parts))
  assert r.status_code == status and r.is_json, (r.status_code, r.data)
  assert expected in r.get_json()["error"]


def test_upload_limit_and_unknown_route(models):
  client = app_lib.create_app(models, max_upload_bytes=1000).test_client()
  r = client.post("/api/embed", data=_files(cover=_png(_image(5, 64))))
  assert r.status_code == 413 and "larger than this server accepts" in r.get_json()["error"]
  assert client.get("/api/nothing").status_code == 404 and client.get("/api/nothing").is_json


def test_token_is_required_on_every_api_call(models):
  client = app_lib.create_app(models, token=TOKEN).test_client()
  assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200
  for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
    for path, method in (("/api/models", client.get), ("/api/embed", client.post), ("/api/extract", client.post)):
      r = method(path, headers=headers)
      assert r.status_code == 401 and "token" in r.get_json()["error"]
  assert client.get("/api/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def _multipart(fields: dict) -> tuple[bytes, str]:
  """A multipart/form-data body for urllib (the test client's side; the server parses with Werkzeug)."""
  boundary = "jaxsteg-test-boundary"
  out = io.BytesIO()
  for name, value in fields.items():
    out.write(f"--{boundary}\r\n".encode())
    if isinstance(value, bytes):
      out.write(f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
                f"Content-Type: image/png\r\n\r\n".encode() + value + b"\r\n")
    else:
      out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
  out.write(f"--{boundary}--\r\n".encode())
  return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _post(url, fields):
  body, content_type = _multipart(fields)
  req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type,
                                                       "Authorization": f"Bearer {TOKEN}"})
  with urllib.request.urlopen(req, timeout=120) as r:
    return r.read()


def test_sixteen_concurrent_requests_on_a_real_server(models, ideal, capfd, caplog):
  """16 embeds and 16 text extracts at once against one threaded server: every result is the one the same
  request gets alone; no passphrase reaches the log."""
  image_name = next(n for n, m in models.items() if m.kind == "image")
  run = models[image_name].run
  server = serving.make_server("127.0.0.1", 0, app_lib.create_app(models, token=TOKEN), threaded=True)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  url = f"http://127.0.0.1:{server.port}"
  passphrase = "pass-phrase-never-logged-42"
  caplog.set_level("INFO")
  try:
    covers, secrets = [_image(10 + i) for i in range(16)], [_image(40 + i) for i in range(16)]
    texts = [f"message number {i} ✓" for i in range(16)]
    stegos = [_post(f"{url}/api/embed", {"model": "bits_run", "cover": _png(_image(70 + i, 64)), "text": t,
                                         "passphrase": passphrase}) for i, t in enumerate(texts[:2])]
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
      embeds = [pool.submit(_post, f"{url}/api/embed", {"model": image_name, "cover": _png(c), "secret": _png(s)})
                for c, s in zip(covers, secrets)]
      reads = [pool.submit(_post, f"{url}/api/extract", {"model": "bits_run", "stego": stegos[i % 2],
                                                         "passphrase": passphrase}) for i in range(16)]
      embedded = [_decode(f.result()) for f in embeds]
      read = [f.result().decode("utf-8") for f in reads]
    for c, s, got in zip(covers, secrets, embedded):
      assert np.array_equal(got, operations.hide_images(run, None, c, [s], ["s"], "c"))
    assert read == [texts[i % 2] for i in range(16)]
    assert json.loads(urllib.request.urlopen(f"{url}/healthz", timeout=10).read())["ok"]
  finally:
    server.shutdown()
    thread.join(10)
  captured = capfd.readouterr()
  logged = caplog.text + captured.out + captured.err
  assert "POST /api/embed" in logged   # The request log is there ...
  assert passphrase not in logged   # ... without any form field.
