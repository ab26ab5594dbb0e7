r"""Opens a `jaxsteg benchmark` report.html in headless Chromium and checks that it renders on its own.

  python benchmarks/report_in_browser.py REPORT_DIR [--screenshot page.png]

The page must be self-contained (every plot inline as a data: URI, so it can be mailed or attached to a paper's
supplement): this loads it from disk with the network unreachable, and fails (exit 1) unless every <img> decoded
(naturalWidth > 0), there is no reference to a file beside it, and the tables are there. Needs Debian's
`chromium` and `chromium-driver` and `selenium` (what the service's browser test uses).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000")


def check(report_dir: str, screenshot: str | None = None) -> dict:
  from selenium import webdriver  # pylint: disable=g-import-not-at-top
  page = os.path.abspath(os.path.join(report_dir, "report.html"))
  if not os.path.isfile(page):
    raise SystemExit(f"no report.html in {report_dir!r}: give a folder written by `jaxsteg benchmark`")
  with tempfile.TemporaryDirectory() as profile:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS + (f"--user-data-dir={profile}",):
      options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
    try:
      driver.get("file://" + page)
      images = driver.execute_script(
          "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight,"
          " i.src.slice(0, 22)])")
      tables = driver.execute_script("return document.querySelectorAll('table').length")
      rows = driver.execute_script("return document.querySelectorAll('tbody tr').length")
      title = driver.title
      if screenshot:
        driver.save_screenshot(screenshot)
    finally:
      driver.quit()
  return {"title": title, "images": images, "tables": tables, "rows": rows}


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("report_dir")
  p.add_argument("--screenshot", default=None, help="also save the rendered page as this PNG")
  args = p.parse_args(argv)
  result = check(args.report_dir, args.screenshot)
  bad = [i for i in result["images"] if not (i[0] and i[1] > 0 and i[3].startswith("data:image/png;base64"))]
  print(f"title {result['title']!r}: {result['tables']} tables, {result['rows']} rows, "
        f"{len(result['images'])} images, {len(bad)} not rendered inline")
  for i in result["images"]:
    print(f"  {i[1]}x{i[2]} {'ok' if i not in bad else 'NOT RENDERED'} ({i[3]}...)")
  ok = not bad and result["images"] and result["tables"] >= 2
  return 0 if ok else 1


if __name__ == "__main__":
  sys.exit(main())
