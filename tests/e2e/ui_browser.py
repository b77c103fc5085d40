#!/usr/bin/python3
"""ui_browser.py SPEC.json: drives the web view (/ui/) in headless Chromium
through chromedriver (Debian's chromium, chromium-driver, python3-selenium)
for tests/e2e/ui.sh. SPEC names the base URL, the artifacts folder and what
each page must show. Per page: it loads, has lang, a title and one h1,
tables with th, links with text, no script element, no console error, no
request to another origin, fits a 375 px viewport without a horizontal
scroll, and a screenshot is saved. Then it follows links from the
repositories to a repository to a manifest. Hostile pages (HTML in names,
annotations and artifact types) must show the text and run nothing: an
alert() would leave a dialog open. Prints one line per check ("ok ..." or
"FAIL ..."); exit status 1 if any failed."""
import json
import sys
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

spec = json.load(open(sys.argv[1]))
base = spec["base"].rstrip("/")
origin = urlsplit(base)
fails = 0


def check(ok, what):
    global fails
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        fails += 1


opts = Options()
for a in ("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
          "--window-size=1280,900", "--no-first-run", "--disable-extensions",
          "--disable-background-networking", "--disable-component-update"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(60)


def no_dialog():
    try:
        a = drv.switch_to.alert
        text = a.text
        a.dismiss()
        return "a dialog opened: " + text
    except NoAlertPresentException:
        return None


def requests_elsewhere():
    bad = []
    for e in drv.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m.get("method") != "Network.requestWillBeSent":
            continue
        u = urlsplit(m["params"]["request"]["url"])
        if u.scheme in ("data", "about", "chrome", "devtools"):
            continue
        if (u.scheme, u.netloc) != (origin.scheme, origin.netloc):
            bad.append(m["params"]["request"]["url"])
    return bad


def console_errors():
    return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def page(label, path, must=(), shot=None):
    """Loads base+path and runs the checks every page gets."""
    drv.set_window_size(1280, 900)
    drv.get(base + path)
    d = no_dialog()
    check(d is None, "%s: no script ran (%s)" % (label, d or "no dialog"))
    js = drv.execute_script
    check(js("return document.documentElement.lang") == "en", label + ": <html lang=en>")
    check(bool(drv.title.strip()), label + ": a title (%r)" % drv.title)
    check(len(drv.find_elements(By.TAG_NAME, "h1")) == 1, label + ": exactly one h1")
    check(len(drv.find_elements(By.TAG_NAME, "script")) == 0, label + ": no script element")
    tables = drv.find_elements(By.TAG_NAME, "table")
    check(all(t.find_elements(By.TAG_NAME, "th") for t in tables), label + ": every table has th (%d tables)" % len(tables))
    empty = js("return [...document.links].filter(a => !a.textContent.trim()).length")
    check(empty == 0, label + ": every link has text")
    body = drv.find_element(By.TAG_NAME, "body").text
    for m in must:
        check(m in body, "%s: shows %r" % (label, m[:80]))
    if shot:
        drv.save_screenshot("%s/ui-%s.png" % (spec["artifacts"], shot))
    # narrow screen: the layout wraps instead of scrolling sideways
    drv.set_window_size(375, 800)
    width = js("return document.documentElement.clientWidth")
    if width != 375:
        # the window includes chrome: make the viewport itself 375 px
        drv.set_window_size(375 + 375 - width, 800)
    sw = js("return document.documentElement.scrollWidth")
    vw = js("return document.documentElement.clientWidth")
    check(vw == 375 and sw <= 375, "%s: at a 375 px viewport scrollWidth is %d (viewport %d)" % (label, sw, vw))
    if shot:
        drv.save_screenshot("%s/ui-%s-375px.png" % (spec["artifacts"], shot))
    errs = console_errors()
    check(not errs, "%s: no console error %s" % (label, errs[:3]))
    out = requests_elsewhere()
    check(not out, "%s: no request to another origin %s" % (label, out[:3]))
    return body


for p in spec["pages"]:
    page(p["label"], p["path"], p.get("must", []), p.get("shot"))

# follow the links, as a user would: repositories -> repository -> manifest
f = spec["follow"]
drv.set_window_size(1280, 900)
drv.get(base + f["start"])
links = [a for a in drv.find_elements(By.TAG_NAME, "a") if a.text == f["repo"]]
check(len(links) == 1, "follow: the repositories page links to %s" % f["repo"])
if links:
    links[0].click()
    check(f["repo"] in drv.find_element(By.TAG_NAME, "h1").text, "follow: the link opens the repository's page")
    links = [a for a in drv.find_elements(By.TAG_NAME, "a") if a.text == f["digest"]]
    check(len(links) >= 1, "follow: the repository page links to the manifest %s" % f["digest"][:19])
    if links:
        links[0].click()
        body = drv.find_element(By.TAG_NAME, "body").text
        for c in f["cids"]:
            check(c in body, "follow: the manifest page shows the CID %s" % c)
        nav = [a for a in drv.find_elements(By.TAG_NAME, "a") if a.text == "Registry"]
        check(len(nav) == 1, "follow: the navigation links to the registry page")
        if nav:
            nav[0].click()
            check(f["root"] in drv.find_element(By.TAG_NAME, "body").text,
                  "follow: the registry page shows the root CID %s" % f["root"])
check(not console_errors(), "follow: no console error")
check(not requests_elsewhere(), "follow: no request to another origin")
drv.quit()
sys.exit(1 if fails else 0)
