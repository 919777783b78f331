#!/usr/bin/env bash
# Instructions executed by `wedio analyze --one-thread --format json` on a generated 100 000-message ice-dense
# capture, counted by valgrind's callgrind: unlike wall time, the count does not move with a shared machine's
# load, so two builds can be compared to a fraction of a percent.
# Usage: scripts/bench/instructions.sh [WEDIO_BINARY]   (default: the release build, built first)
# Prints the total and the inclusive counts of reading, decoding, analysing, assembling and writing JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 69; }
work=${WEDIO_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
binary=${1:-}
if [ -z "$binary" ]; then
    swift build -c release --product wedio --static-swift-stdlib >/dev/null
    binary=.build/release/wedio
fi
capture="$work/ice-dense-100k.pcap"
[ -f "$capture" ] || python3 scripts/bench/make_capture.py ice-dense 100000 "$capture" >/dev/null
# valgrind cannot read the statically linked standard library's debug information: keep the symbols only.
objcopy --strip-debug "$binary" "$work/wedio-symbols"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$work/wedio-symbols" analyze --no-progress \
    --one-thread --format json "$capture" >/dev/null 2>"$work/valgrind.log"
grep -o 'Collected : [0-9]*' "$work/valgrind.log" | awk '{printf "total %.3f G instructions\n", $3 / 1e9}'
callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null | awk '
    /PipelineV4read33_.*splitThreads8progress/ && !read { read = 1; label = "reading, decoding, analysing" }
    /STUNMessageV6decodeyACs4SpanVys5UInt8VGAA17STUNDecodingErrorVYKFZ / { label = "STUN decoding" }
    /CallAssemblyO8assemble6inputs/ { label = "call assembly (sessions, calls, timeline, findings)" }
    /JSONReportV6render_4sink/ { label = "JSON writing" }
    label { gsub(",", "", $1); printf "%-52s %.3f G\n", label, $1 / 1e9; label = "" }'
