"""The page of `jaxsteg serve` in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): upload a cover and a secret, download the container, upload it again, extract, download the revealed
image, and compare both files with what the CLI's functions give for the same inputs.

Without Chromium the test is skipped on a developer's machine (`apt-get install chromium chromium-driver`);
under CI (CI=true) it fails instead: `.ci/run` installs them."""

import os
import shutil
import tempfile
import threading
import time

import numpy as np
from PIL import Image
import pytest
from werkzeug import serving

from jaxsteg import operations
from jaxsteg.serve import app as app_lib
from jaxsteg.serve import models as models_lib

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def _require_browser():
  """(chromium, chromedriver) paths; a skip outside CI, a failure in CI, when they or selenium are missing."""
  missing = [n for n in ("chromium", "chromedriver") if not shutil.which(n)]
  try:
    import selenium  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    missing.append("selenium (pip)")
  if missing:
    reason = (f"the browser test needs {', '.join(missing)}: apt-get install chromium chromium-driver; "
              f"pip install -r requirements.txt")
    if os.environ.get("CI", "").lower() == "true":
      pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)
  return shutil.which("chromium"), shutil.which("chromedriver")


def _wait_for(predicate, timeout=120.0, what="condition"):
  end = time.monotonic() + timeout
  while time.monotonic() < end:
    value = predicate()
    if value:
      return value
    time.sleep(0.1)
  raise AssertionError(f"timed out waiting for {what}")


def _downloaded(folder, name):
  path = os.path.join(folder, name)
  return _wait_for(lambda: os.path.exists(path) and not any(f.endswith(".crdownload") for f in os.listdir(folder))
                   and path, what=f"the download of {name}")


def test_page_embeds_downloads_and_extracts(tiny_run, tmp_path):
  chromium, chromedriver = _require_browser()
  from selenium import webdriver  # pylint: disable=g-import-not-at-top
  from selenium.webdriver.chrome.service import Service  # pylint: disable=g-import-not-at-top
  from selenium.webdriver.common.by import By  # pylint: disable=g-import-not-at-top

  _, workdir, _ = tiny_run
  models = models_lib.load_models([workdir])
  run = next(iter(models.values())).run
  rng = np.random.default_rng(7)
  cover, secret = (rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(2))
  Image.fromarray(cover).save(tmp_path / "cover.png")
  Image.fromarray(secret).save(tmp_path / "secret.png")
  downloads = tmp_path / "downloads"
  downloads.mkdir()

  server = serving.make_server("127.0.0.1", 0, app_lib.create_app(models), threaded=True)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  profile = tempfile.mkdtemp(prefix="jaxsteg-chromium-")
  options = webdriver.ChromeOptions()
  options.binary_location = chromium
  for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
    options.add_argument(flag)
  options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                            "download.prompt_for_download": False})
  driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
  try:
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.get(f"http://127.0.0.1:{server.port}/")
    _wait_for(lambda: "ready" in driver.find_element(By.ID, "status").text, what="the model list")
    driver.find_element(By.ID, "cover").send_keys(str(tmp_path / "cover.png"))
    driver.find_element(By.ID, "secret").send_keys(str(tmp_path / "secret.png"))
    driver.find_element(By.ID, "embed").click()
    link = driver.find_element(By.ID, "container-download")
    _wait_for(link.is_displayed, what="the container")
    link.click()
    container_path = _downloaded(str(downloads), "container.png")
    driver.find_element(By.ID, "stego").send_keys(container_path)
    driver.find_element(By.ID, "extract").click()
    link = driver.find_element(By.ID, "revealed-download")
    _wait_for(link.is_displayed, what="the revealed image")
    link.click()
    revealed_path = _downloaded(str(downloads), "revealed.png")
    assert driver.find_element(By.ID, "error").text == ""
  finally:
    driver.quit()
    server.shutdown()
    thread.join(10)
    shutil.rmtree(profile, ignore_errors=True)
  container = np.asarray(Image.open(container_path))
  expected = operations.hide_images(run, None, cover, [secret], ["secret"], "cover")
  assert container.shape == (32, 48, 3) and np.array_equal(container, expected)
  revealed = np.asarray(Image.open(revealed_path))
  assert np.array_equal(revealed, operations.reveal_images(run, None, container, "container")[0])
