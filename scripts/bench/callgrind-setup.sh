# Sourced by the callgrind scripts (instructions.sh, cache-misses.sh) with the binary's path as $1 (empty: the
# release build, built first). Sets `work` (WEDIO_BENCH_DIR or a new directory), `capture` (the 100 000-message
# ice-dense capture, generated once) and `symbols` (the binary with its symbols only: valgrind cannot read the
# statically linked standard library's debug information).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
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
symbols="$work/wedio-symbols-$(basename "$0" .sh)"
objcopy --strip-debug "$binary" "$symbols"
