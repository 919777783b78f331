#!/usr/bin/env python3
"""An oracle for `--redact` that does not share the redactor's lists: runs `wedio analyze --redact` on each
capture in JSON, Markdown, text and NDJSON (the live stream replayed from the file), and looks through the
whole output for
  - any IPv4 or IPv6 literal outside the pseudonym ranges (10.128.0.0/9, 198.18.0.0/15, fd00::/8,
    2001:db8::/32; loopback and unspecified addresses are not redacted),
  - any STUN USERNAME part (ICE ufrags, TURN users), REALM or TLS server name that tshark reads in the capture.
Prints each leak as "file format: what"; exits 1 if there is one.

  check_redaction.py WEDIO CAPTURE...
"""
import ipaddress
import re
import subprocess
import sys

ALLOWED = [ipaddress.ip_network(n) for n in ("10.128.0.0/9", "198.18.0.0/15", "fd00::/8", "2001:db8::/32")]
V4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
V6 = re.compile(r"(?<![0-9A-Za-z:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![0-9A-Za-z:])")


def literals(text):
    for pattern in (V4, V6):
        for match in pattern.finditer(text):
            try:
                yield ipaddress.ip_address(match.group(1))
            except ValueError:
                continue


def allowed(address):
    return address.is_loopback or address.is_unspecified or any(address in network for network in ALLOWED)


def names(path):
    fields = ["stun.att.username", "stun.att.realm", "tls.handshake.extensions_server_name"]
    command = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\t"]
    for field in fields:
        command += ["-e", field]
    output = subprocess.run(command, capture_output=True, text=True).stdout
    found = set()
    for value in re.split(r"[\t\n]", output):
        value = value.strip()
        if not value:
            continue
        # An ICE USERNAME names two ufrags; each is a name of its own.
        for part in [value] + value.split(":"):
            if len(part) >= 4:
                found.add(part)
    return found


def main():
    wedio, captures = sys.argv[1], sys.argv[2:]
    leaks = []
    for path in captures:
        secrets = names(path)
        for fmt in ("json", "markdown", "text", "ndjson"):
            run = subprocess.run([wedio, "analyze", "--redact", "--format", fmt, path], capture_output=True, text=True,
                                 env={"NO_COLOR": "1"})
            if run.returncode not in (0, 65, 66):
                leaks.append(f"{path} {fmt}: exit {run.returncode}: {run.stderr.strip()[:200]}")
                continue
            # The input's own path is printed as given (not redacted): leave it out of the search.
            text = run.stdout.replace(path, "<input>")
            for address in sorted({str(a) for a in literals(text) if not allowed(a)}):
                leaks.append(f"{path} {fmt}: address {address}")
            for name in sorted(secrets):
                if re.search(r"(?<![0-9A-Za-z])" + re.escape(name) + r"(?![0-9A-Za-z])", text):
                    leaks.append(f"{path} {fmt}: name {name!r}")
    for leak in leaks:
        print(leak)
    sys.exit(1 if leaks else 0)


if __name__ == "__main__":
    main()
