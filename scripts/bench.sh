#!/usr/bin/env bash
# Whole-capture benchmark: wall time and peak RSS of `wedio analyze` against a bare libpcap read loop
# (pcap_next_ex doing nothing: the floor) and tshark, measured in the same run on generated captures.
# Usage: scripts/bench.sh [--update-readme] [MEDIA_PACKETS] [FLOOD_PACKETS]
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [ "${1:-}" = "--update-readme" ]; then update=1; shift; fi
media_packets=${1:-1000000}
flood_packets=${2:-200000}
export PATH="/opt/swift/usr/bin:$PATH"
for tool in tshark gcc; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 69; }; done
work=${WEDIO_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
swift build -c release --product wedio >/dev/null
gcc -O2 -o "$work/pcap_loop" scripts/bench/pcap_loop.c -lpcap
[ -f "$work/media.pcap" ] || python3 scripts/bench/make_capture.py media "$media_packets" "$work/media.pcap" >/dev/null
[ -f "$work/flood.pcap" ] || python3 scripts/bench/make_capture.py flood "$flood_packets" "$work/flood.pcap" >/dev/null

# Best of five wall times (seconds) and the peak RSS (MB) of that run.
measure() {
    local best="" rss=""
    for _ in 1 2 3 4 5; do
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1 || true
        read -r seconds kilobytes <"$work/time"
        if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best=$seconds; rss=$((kilobytes / 1024)); fi
    done
    echo "$best $rss"
}

table="| capture | packets | size | libpcap loop | wedio decode+classify | wedio analyze | tshark -Y \"stun \\|\\| classicstun\" | tshark -T fields stun | decode / loop | analyze / loop | tshark filter / analyze |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for capture in media flood; do
    file="$work/$capture.pcap"
    packets=$("$work/pcap_loop" "$file" | cut -d' ' -f1)
    size=$(( $(stat -c %s "$file") / 1048576 ))
    read -r loop loop_rss < <(measure "$work/pcap_loop" "$file")
    read -r decode decode_rss < <(measure .build/release/wedio analyze --no-progress --decode-only "$file")
    read -r wedio wedio_rss < <(measure .build/release/wedio analyze --no-progress "$file")
    read -r filter filter_rss < <(measure tshark -n -r "$file" -Y "stun || classicstun")
    read -r fields fields_rss < <(measure tshark -n -r "$file" -T fields -e stun.type -e stun.id)
    ratio=$(awk "BEGIN{if ($loop < 0.02) print \"n/a (loop under 20 ms)\"; else printf \"%.2fx\", $wedio / $loop}")
    decode_ratio=$(awk "BEGIN{if ($loop < 0.02) print \"n/a\"; else printf \"%.2fx\", $decode / $loop}")
    speedup=$(awk "BEGIN{printf \"%.0fx\", $filter / ($wedio > 0.001 ? $wedio : 0.001)}")
    table+="
| $capture | $packets | ${size} MB | ${loop} s, ${loop_rss} MB | ${decode} s, ${decode_rss} MB | ${wedio} s, ${wedio_rss} MB | ${filter} s, ${filter_rss} MB | ${fields} s, ${fields_rss} MB | $decode_ratio | $ratio | $speedup |"
done
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo "$table"
echo "($machine; best of 5 runs; wedio release build)"
if [ $update = 1 ]; then
    python3 - "$table" "$machine" <<'PY'
import re, sys
table, machine = sys.argv[1], sys.argv[2]
text = open("README.md").read()
block = f"<!-- bench:start -->\n{table}\n\n_Measured by `scripts/bench.sh --update-readme` on {machine}; best of 5 runs._\n<!-- bench:end -->"
text = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", block, text, flags=re.S)
open("README.md", "w").write(text)
PY
fi
