#!/usr/bin/env python3
"""Renders every ```mermaid block of the given Markdown files in a real headless browser (Debian's chromium)
with Mermaid's own JavaScript (as shipped in the diagram-renderer wheel), and prints one JSON line per block:
{"file", "block", "ok", "error", "svgBytes"}. Exit status 0 when every block rendered, 1 when one failed, 77 when
chromium or Mermaid's JavaScript is missing. With --png DIR, also writes DIR/<file>-<block>.png to look at.

The browser runs in a network namespace of its own with only loopback (unshare -n) when it can: a rendering
test sends nothing anywhere."""
import argparse
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


def mermaid_js():
    spec = importlib.util.find_spec("diagram_renderer")
    if spec and spec.origin:
        path = os.path.join(os.path.dirname(spec.origin), "renderers", "static", "js", "mermaid.min.js")
        if os.path.exists(path):
            return path
    return None


def blocks(text):
    return re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)


def chromium_command():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        return None
    prefix = []
    if shutil.which("unshare") and os.geteuid() == 0:
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
            prefix = ["unshare", "-n"]
    return prefix + [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync", "--allow-file-access-from-files"]


PAGE = """<!doctype html><meta charset="utf-8"><body><div id="out"></div><pre id="result">pending</pre>
<script src="file://%(js)s"></script>
<script>
const diagrams = %(diagrams)s;
(async () => {
  const results = [];
  try {
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  } catch (e) { results.push({ ok: false, error: "initialize: " + e }); }
  for (let i = 0; i < diagrams.length; i++) {
    try {
      await mermaid.parse(diagrams[i]);
      const { svg } = await mermaid.render("d" + i, diagrams[i]);
      const holder = document.createElement("div");
      holder.innerHTML = svg;
      document.getElementById("out").appendChild(holder);
      results.push({ ok: !/Syntax error/.test(svg), error: null, svgBytes: svg.length });
    } catch (e) {
      results.push({ ok: false, error: String(e && e.message || e), svgBytes: 0 });
    }
  }
  document.getElementById("result").textContent = "RESULT " + JSON.stringify(results) + " END";
})();
</script>"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--png", help="write a screenshot of each file's diagrams here")
    args = parser.parse_args()
    js = mermaid_js()
    command = chromium_command()
    if not js or not command:
        print("render_mermaid: needs chromium and the diagram-renderer wheel (Mermaid's JavaScript)", file=sys.stderr)
        return 77
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for path in args.files:
            diagrams = blocks(open(path, encoding="utf-8").read())
            if not diagrams:
                continue
            page = os.path.join(work, "page.html")
            with open(page, "w", encoding="utf-8") as handle:
                handle.write(PAGE % {"js": html.escape(js), "diagrams": json.dumps(diagrams).replace("</", "<\\/")})
            dumped = subprocess.run(command + ["--virtual-time-budget=20000", "--dump-dom", "file://" + page],
                                    capture_output=True, text=True, timeout=120)
            match = re.search(r"RESULT (.*?) END", html.unescape(dumped.stdout), flags=re.S)
            results = json.loads(match.group(1)) if match else [{"ok": False, "error": "no result: " + dumped.stderr[-300:]}] * len(diagrams)
            for index, result in enumerate(results):
                failed |= not result.get("ok")
                print(json.dumps({"file": path, "block": index, **result}))
            if args.png:
                os.makedirs(args.png, exist_ok=True)
                name = os.path.splitext(os.path.basename(path))[0]
                subprocess.run(command + ["--virtual-time-budget=20000", "--window-size=1600,2400",
                                          f"--screenshot={os.path.join(os.path.abspath(args.png), name + '.png')}", "file://" + page],
                               capture_output=True, timeout=120, cwd=work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
