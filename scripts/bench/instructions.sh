#!/usr/bin/env bash
# Instructions executed by `wedio analyze --one-thread --format json` on a generated 100 000-message ice-dense
# capture, counted by valgrind's callgrind: unlike wall time, the count does not move with a shared machine's
# load, so two builds can be compared to a fraction of a percent.
# Usage: scripts/bench/instructions.sh [WEDIO_BINARY]   (default: the release build, built first)
# Prints the total and the inclusive counts of reading+decoding+analysing (STUN decoding within it) and of
# assembling calls (for each, the largest of the functions whose names match: callgrind_annotate lists them
# largest first), and the rest.
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
total=$(grep -o 'Collected : [0-9]*' "$work/valgrind.log" | awk '{print $3}')
awk -v total="$total" 'BEGIN{printf "total %.3f G instructions\n", total / 1e9}'
# Writing the JSON renders long lists on worker threads, whose cost is not under the writing function's own
# count: it is shown as what is left once reading and assembling are taken off the total.
callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null | awk -v total="$total" '
    /PipelineV4read33_.*splitThreads8progress/ && !read { read = 1; label = "reading, decoding, analysing" }
    /STUNMessageV6decodeyACs4SpanVys5UInt8VGAA17STUNDecodingErrorVYKFZ / { label = "STUN decoding" }
    /CallAssemblyO8assemble6inputs/ { label = "call assembly (sessions, calls, timeline, findings)" }
    label && !(label in shown) {
        gsub(",", "", $1)
        printf "%-52s %.3f G\n", label, $1 / 1e9
        shown[label] = 1
        if (label !~ /STUN/) rest -= $1
    }
    { label = "" }
    END { printf "%-52s %.3f G\n", "the rest (mostly writing the JSON)", (total + rest) / 1e9 }'
