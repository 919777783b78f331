#!/usr/bin/env bash
# Builds the libFuzzer harnesses with AddressSanitizer and runs each for a bounded time, seeded from the
# repository's fixtures. Replays FuzzTesting/FailCases first (every crash ever found stays there).
# Usage: FuzzTesting/run-fuzzers.sh [SECONDS_PER_HARNESS] (default 30)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
export PATH="/opt/swift/usr/bin:$PATH"
# Release: debug builds of executables on Linux expect a renamed main (testability), which harnesses lack.
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -vE "ld.gold: warning|^\[" || true
bin=$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seeds: the fixture captures, their UDP payloads (STUN and ChannelData) and runs of their packets.
mkdir -p "$work/seeds/FuzzSTUN" "$work/seeds/FuzzChannelData" "$work/seeds/FuzzPackets" "$work/seeds/FuzzPcap"
for capture in ../fixtures/link/ethernet-lo.pcap ../fixtures/fragments/*.pcap ../fixtures/ice/*/a-inside.pcap; do
    cp "$capture" "$work/seeds/FuzzPcap/"
done
# A pcapng whose interfaces differ in link type: read block by block by WeDio's own reader, not libpcap.
if command -v mergecap >/dev/null 2>&1; then
    mergecap -F pcapng -w "$work/seeds/FuzzPcap/mixed.pcapng" ../fixtures/link/raw.pcap ../fixtures/link/null.pcap
fi
python3 - "$work/seeds" ../fixtures/link/ethernet-lo.pcap <<'PY'
import struct, sys
out, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
offset, packets = 24, []
while offset + 16 <= len(data):
    caplen = struct.unpack("<I", data[offset + 8:offset + 12])[0]
    packets.append(data[offset + 16:offset + 16 + caplen])
    offset += 16 + caplen
for index, frame in enumerate(packets):
    ethertype = struct.unpack("!H", frame[12:14])[0]
    payload = frame[14 + (20 if ethertype == 0x0800 else 40) + 8:]  # the UDP payload: STUN or ChannelData
    for harness in ("FuzzSTUN", "FuzzChannelData"):
        open(f"{out}/{harness}/msg{index}", "wb").write(payload)
for index in range(0, len(packets), 8):
    blob = b"\x00" + b"".join(struct.pack("!H", len(p)) + p for p in packets[index:index + 8])
    open(f"{out}/FuzzPackets/seq{index}", "wb").write(blob)
PY

status=0
for harness in FuzzSTUN FuzzChannelData FuzzPackets FuzzPcap; do
    if ls FailCases/$harness-* >/dev/null 2>&1; then
        echo "== $harness: replaying FailCases"
        "$bin/$harness" FailCases/$harness-* >"$work/$harness-replay.log" 2>&1 || { status=1; tail -20 "$work/$harness-replay.log"; }
    fi
    echo "== $harness: fuzzing for $seconds s"
    mkdir -p "$work/corpus/$harness"
    if "$bin/$harness" "$work/corpus/$harness" "$work/seeds/$harness" -max_total_time="$seconds" -max_len=4096 \
        -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/$harness-" >"$work/$harness.log" 2>&1; then
        grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$work/$harness.log" | tail -1
    else
        status=1
        tail -30 "$work/$harness.log"
        for artifact in "$work/$harness"-crash-* "$work/$harness"-timeout-* "$work/$harness"-oom-*; do
            [ -f "$artifact" ] && cp "$artifact" "FailCases/$harness-$(basename "$artifact" | sed "s/^$harness-//")" && echo "saved $artifact to FailCases/"
        done
    fi
done
exit $status
