#!/usr/bin/env bash
# Instructions executed by `wedio analyze --one-thread --format json` on a generated 100 000-message ice-dense
# capture, counted by valgrind's callgrind: unlike wall time, the count does not move with a shared machine's
# load, so two builds can be compared to a fraction of a percent.
# Usage: scripts/bench/instructions.sh [WEDIO_BINARY]   (default: the release build, built first)
# Prints the total and the inclusive counts of reading+decoding+analysing (STUN decoding within it) and of
# assembling calls (for each, the largest of the functions whose names match: callgrind_annotate lists them
# largest first), and the rest.
source "$(dirname "$0")/callgrind-setup.sh" "${1:-}"
# One profile per thread: the sessions, the calls and the JSON's long lists are worked out on every core, and
# what a worker thread runs is not under its caller's count on the main thread.
rm -f "$work"/callgrind.out*
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/callgrind.out" "$symbols" analyze \
    --no-progress --one-thread --format json "$capture" >/dev/null 2>"$work/valgrind.log"
total=$(grep -o 'Collected : [0-9]*' "$work/valgrind.log" | awk '{print $3}')
awk -v total="$total" 'BEGIN{printf "total %.3f G instructions\n", total / 1e9}'
# Per thread, the largest inclusive count of each labelled function (callgrind_annotate lists them largest
# first): on the main thread reading and assembling; on worker threads the sessions' and calls' closures
# count as assembling. The JSON is what is left.
for profile in "$work"/callgrind.out-*; do
    callgrind_annotate --inclusive=yes "$profile" 2>/dev/null | awk '
        /PipelineV4read33_.*splitThreads8progress/ && !read { read = 1; label = "reading" }
        /STUNMessageV6decode(yACs4SpanVys5UInt8VGAA17STUNDecodingErrorVYKFZ|_4intoys4SpanVys5UInt8VG_ACztAA17STUNDecodingErrorVYKFZ) / { label = "stun" }
        /CallAssemblyO8assemble6inputs/ { label = "assembly" }
        /ICETrackerV8sessions5media3end.*XEfU_ / { label = "sessions-worker" }
        /CallAssemblyO5calls_11allocations5clock.*XEfU_ / { label = "calls-worker" }
        label && !(label in shown) { gsub(",", "", $1); print label, $1; shown[label] = 1 }
        { label = "" }' | sed "s|^|${profile##*-} |"
done | awk -v total="$total" '
    # Thread 01 is the main thread: its worker-closure counts are already under "assembly".
    $1 == "01" && $2 ~ /worker/ { next }
    { sum[$2 ~ /worker/ ? "assembly" : $2] += $3 }
    END {
        printf "%-52s %.3f G\n", "reading, decoding, analysing", sum["reading"] / 1e9
        printf "%-52s %.3f G\n", "STUN decoding", sum["stun"] / 1e9
        printf "%-52s %.3f G\n", "call assembly (sessions, calls, timeline, findings)", sum["assembly"] / 1e9
        printf "%-52s %.3f G\n", "the rest (mostly writing the JSON)", (total - sum["reading"] - sum["assembly"]) / 1e9
    }'
