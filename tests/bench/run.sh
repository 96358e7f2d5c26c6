#!/usr/bin/env bash
# The diy-http benchmark: requests per second for a small file and MB/s for
# a large one, for the lessons, Python's http.server and (where installed)
# nginx, side by side in one run. See tests/bench/README.md.
#
#     bash tests/bench/run.sh
#     BENCH_ONE_CORE_ONLY=1 bash tests/bench/run.sh   # only the one-core table
#     bash tests/bench/run.sh --syscalls [lessonNN]   # system calls per request
#
# This is a measurement, not a test: it never fails because a server is
# slow, CI never runs it, and `cargo test` does not depend on it. Progress
# goes to stderr, the results table (Markdown) to stdout.
#
# Settings (fixed on purpose, so that runs are comparable; change them only
# for experiments, and say so next to the numbers):
#   BENCH_DURATION     seconds per measurement        (default 5)
#   BENCH_CONNECTIONS  the higher concurrency level   (default 32)
#   BENCH_LOADGEN      wrk or oha                     (default: wrk if installed)
#   BENCH_ONE_CORE_DURATION  seconds per one-core run   (default 3)
#   BENCH_ONE_CORE_ONLY=1    run only the one-core measurement
#   BENCH_COLD_BUILD=1       also time a cold `cargo build --workspace`
set -euo pipefail

# `--syscalls [lessonNN]`: count one lesson's system calls per request
# under strace instead of measuring speed.
MODE=bench
# The course's last lesson: the default for --syscalls, and the one whose
# memory and grading time the one-core measurement reports.
LAST_LESSON=lesson15
SYSCALLS_LESSON="$LAST_LESSON"
case "${1:-}" in
    "") ;;
    --syscalls)
        MODE=syscalls
        if [[ -n "${2:-}" ]]; then SYSCALLS_LESSON="$2"; fi
        [[ "$SYSCALLS_LESSON" =~ ^lesson(0[1-9]|1[0-5])$ ]] || {
            printf 'error: --syscalls takes a lesson, lesson01 to lesson15\n' >&2; exit 1; }
        ;;
    *) printf 'usage: bash tests/bench/run.sh [--syscalls [lessonNN]]\n' >&2; exit 1 ;;
esac
ONE_CORE_ONLY="${BENCH_ONE_CORE_ONLY:-0}"

DURATION="${BENCH_DURATION:-5}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
# wrk's default, written out: a response that takes longer than this
# counts as a timeout (a request never answered is not counted at all).
REQUEST_TIMEOUT=2
SMALL_SIZE=1024                  # bytes, small.html
LARGE_SIZE=$((64 * 1024 * 1024)) # bytes, large.bin (64 MiB)
MEDIUM_SIZE=$((1024 * 1024))     # bytes, medium.bin (1 MiB), one-core only
START_TIMEOUT=10                 # seconds a server may take to start listening

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CORES="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- What we need ----------------------------------------------------------

command -v cargo >/dev/null || die "cargo is needed to build the lessons (https://rustup.rs)"
command -v curl >/dev/null || die "curl is needed to check each server before it is measured (apt-get install curl)"
LOADGEN="${BENCH_LOADGEN:-}"
if [[ -z "$LOADGEN" ]]; then
    if command -v wrk >/dev/null; then
        LOADGEN=wrk
    elif command -v oha >/dev/null; then
        LOADGEN=oha
    else
        die "no load generator found: install wrk (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk), or oha (cargo install --locked oha)"
    fi
fi
case "$LOADGEN" in
    wrk) command -v wrk >/dev/null || die "wrk is not installed (Debian/Ubuntu: apt-get install wrk)" ;;
    oha)
        command -v oha >/dev/null || die "oha is not installed (cargo install --locked oha)"
        command -v python3 >/dev/null || die "python3 is needed to read oha's JSON output"
        # oha 1.x says `--output-format json`; older versions said `--json`.
        if oha --help 2>&1 | grep -q -- --output-format; then
            OHA_JSON=(--output-format json)
        else
            OHA_JSON=(--json)
        fi
        ;;
    *) die "BENCH_LOADGEN must be wrk or oha" ;;
esac

# --- Temporary files, and stopping everything we started -------------------

WORK="$(mktemp -d "${TMPDIR:-/tmp}/diy-http-bench.XXXXXX")"
SERVER_PID=""

stop_server() {
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || return 0
    # Lessons 12+ finish open connections on SIGTERM; give them a moment,
    # then insist.
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        stop_server "$SERVER_PID"
        SERVER_PID=""
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Build -------------------------------------------------------------------

TARGET_DIR="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[[ -n "$TARGET_DIR" ]] || TARGET_DIR="$REPO/target"
# Our own copies: a rebuild in the work tree during the run must not change
# what we measure.
mkdir -p "$WORK/bin"

# Builds one lesson (release) and copies it; fails when it does not compile.
build_lesson() {
    [[ -f "$REPO/lessons/$1/Cargo.toml" ]] || return 1
    (cd "$REPO" && cargo build --release --quiet -p "$1" >&2) || return 1
    cp "$TARGET_DIR/release/$1" "$WORK/bin/"
}

LESSONS=()
LATE_NOTES=()
if [[ "$MODE" == syscalls ]]; then
    say "== Building $SYSCALLS_LESSON (cargo build --release)"
    build_lesson "$SYSCALLS_LESSON" || die "$SYSCALLS_LESSON does not compile"
elif [[ "$ONE_CORE_ONLY" != 1 ]]; then
    say "== Building the lessons (cargo build --release)"
    LESSONS=(lesson01 lesson11 lesson12)
    (cd "$REPO" && cargo build --release --quiet -p lesson01 -p lesson11 -p lesson12 >&2)
    # Lesson 13 is left out: it sends files exactly as lesson 12 does (its idea
    # is caching and ranges, which a benchmark of plain GETs never touches).
    # Lessons 14 and 15 are measured when they exist and compile; a broken
    # one must not stop the benchmark of the others.
    for lesson in lesson14 lesson15; do
        [[ -f "$REPO/lessons/$lesson/Cargo.toml" ]] || continue
        if (cd "$REPO" && cargo build --release --quiet -p "$lesson" >&2); then
            LESSONS+=("$lesson")
        else
            LATE_NOTES+=("| $lesson | - | - | - | - | - | - | - | does not compile |")
        fi
    done
    for lesson in "${LESSONS[@]}"; do cp "$TARGET_DIR/release/$lesson" "$WORK/bin/"; done
fi
# The one-core measurement takes every lesson; one that does not compile
# gets a row that says so.
ONE_CORE_LESSONS=()
ONE_CORE_BROKEN=()
if [[ "$MODE" == bench ]]; then
    say "== Building lessons 01 to 15 for the one-core measurement (cargo build --release)"
    for number in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15; do
        if build_lesson "lesson$number"; then
            ONE_CORE_LESSONS+=("lesson$number")
        else
            ONE_CORE_BROKEN+=("lesson$number")
        fi
    done
fi

# --- The document root: fixed names, sizes and contents --------------------

ROOT="$WORK/root"
mkdir -p "$ROOT" "$WORK/data"
SMALL_TOP='<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>small</title></head>
<body>
<h1>A small page</h1>
<p>The diy-http benchmark asks for this page over and over.</p>
'
SMALL_BOTTOM='</body>
</html>
'
# A comment ("<!--" dots "-->\n", 8 bytes besides the dots) fills the page
# up to exactly SMALL_SIZE bytes.
FILLER=$((SMALL_SIZE - ${#SMALL_TOP} - ${#SMALL_BOTTOM} - 8))
{
    printf '%s<!--' "$SMALL_TOP"
    printf '%*s' "$FILLER" '' | tr ' ' '.'
    printf -- '-->\n%s' "$SMALL_BOTTOM"
} >"$ROOT/small.html"
# `yes` ends with SIGPIPE when `head` has enough, which is no error here.
{ yes 'diy-http benchmark: a large file, the same bytes on every run. 0123456789' || true; } |
    head -c "$LARGE_SIZE" >"$ROOT/large.bin"
{ yes 'diy-http benchmark: a medium file, the same bytes on every run. 0123456789' || true; } |
    head -c "$MEDIUM_SIZE" >"$ROOT/medium.bin"
for file in small.html:"$SMALL_SIZE" large.bin:"$LARGE_SIZE" medium.bin:"$MEDIUM_SIZE"; do
    [[ "$(wc -c <"$ROOT/${file%%:*}")" -eq "${file#*:}" ]] || die "${file%%:*} has the wrong size"
done
# nginx's worker processes run as an unprivileged user when we are root.
chmod 755 "$WORK" "$ROOT"
chmod 644 "$ROOT/small.html" "$ROOT/large.bin" "$ROOT/medium.bin"
SMALL_BYTES="$(cat "$ROOT/small.html")"

# --- Machine facts -----------------------------------------------------------

loadgen_version() {
    case "$LOADGEN" in
        wrk) wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true ;;
        oha) oha --version 2>&1 | head -n 1 || true ;;
    esac
}
CPU_MODEL="$( (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true) | sed 's/.*: //')"
PYTHON_VERSION="not installed"
if command -v python3 >/dev/null; then
    PYTHON_VERSION="$(python3 --version 2>&1 | head -n 1)"
fi
NGINX_VERSION="not installed"
if command -v nginx >/dev/null; then
    NGINX_VERSION="$(nginx -v 2>&1 | sed 's/^nginx version: //' | head -n 1)"
fi
FACTS=(
    "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    "machine: $CORES cores${CPU_MODEL:+ ($CPU_MODEL)}, $(uname -s) $(uname -r)"
    "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (other busy programs distort the numbers; a previous run leaves about 2 behind for a minute)"
    "load generator: $(loadgen_version)"
    "rustc: $(rustc --version 2>/dev/null || echo unknown); python: $PYTHON_VERSION; nginx: $NGINX_VERSION"
)
say "== Machine"
for fact in "${FACTS[@]}"; do say "   $fact"; done

# --- Starting servers --------------------------------------------------------

# A port that was free a moment ago, for servers that cannot print theirs.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 20000))
    fi
}

# Waits until the server answers HTTP on its port.
wait_for_http() {
    local port="$1" deadline=$((SECONDS + START_TIMEOUT))
    until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/small.html"; do
        (( SECONDS < deadline )) || return 1
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
}

# Starts a lesson on port 0 and reads its port from `Listening on ...`.
# stdout goes to a file (one log line per request), never to a pipe.
start_lesson() {
    local lesson="$1" deadline=$((SECONDS + START_TIMEOUT)) args=() number
    # Lessons 01-04 serve no files; --root comes with lesson 05, --data
    # (the guestbook) with lesson 08.
    number=$((10#${lesson#lesson}))
    if (( number >= 5 )); then args+=(--root "$ROOT"); fi
    if (( number >= 8 )); then args+=(--data "$WORK/data"); fi
    # Every start gets new, empty files, so that we never read the
    # previous server's port.
    rm -f "$SERVER_LOG" "$SERVER_ERR"
    : >"$SERVER_LOG"
    "${SERVER_PIN[@]}" "$WORK/bin/$lesson" --host 127.0.0.1 --port 0 "${args[@]}" >"$SERVER_LOG" 2>"$SERVER_ERR" &
    SERVER_PID=$!
    PORT=""
    while [[ -z "$PORT" ]]; do
        PORT="$( (head -n 1 "$SERVER_LOG" || true) | sed -n 's#^Listening on http://127\.0\.0\.1:\([0-9]*\)/$#\1#p')"
        [[ -n "$PORT" ]] && break
        if (( SECONDS >= deadline )) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            say "   $lesson did not start: $(cat "$SERVER_ERR" 2>/dev/null || true)"
            return 1
        fi
        sleep 0.05
    done
}

start_python() {
    PORT="$(free_port)"
    # http.server logs every request on stderr.
    "${SERVER_PIN[@]}" python3 -m http.server --bind 127.0.0.1 --directory "$ROOT" "$PORT" \
        >"$SERVER_LOG" 2>"$SERVER_ERR" &
    SERVER_PID=$!
    wait_for_http "$PORT" || { say "   python did not start: $(tail -n 3 "$SERVER_ERR")"; return 1; }
}

start_nginx() {
    PORT="$(free_port)"
    local prefix="$WORK/nginx" temp_paths="" module
    mkdir -p "$prefix/logs" "$prefix/temp"
    # Debian's nginx has its temp folders under /var/lib/nginx; ours go into
    # our own prefix, for each module that is compiled in.
    temp_paths="client_body_temp_path $prefix/temp/body;"
    for module in proxy fastcgi uwsgi scgi; do
        if ! nginx -V 2>&1 | grep -q -- "--without-http_${module}_module"; then
            temp_paths+=" ${module}_temp_path $prefix/temp/$module;"
        fi
    done
    cat >"$prefix/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $NGINX_WORKERS;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    $temp_paths
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT;
        root $ROOT;
    }
}
EOF
    "${SERVER_PIN[@]}" nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
        >"$SERVER_LOG" 2>"$SERVER_ERR" &
    SERVER_PID=$!
    wait_for_http "$PORT" || {
        say "   nginx did not start: $(tail -n 3 "$SERVER_ERR" "$prefix/logs/error.log" 2>/dev/null)"
        return 1
    }
}

SERVER_LOG="$WORK/server.log"
SERVER_ERR="$WORK/server.err"
NGINX_WORKERS=auto

# With one connection, client and server take turns, and how fast a turn
# goes depends on whether the two happen to run on the same core (in a
# virtual machine, waking a process on another core can cost more than the
# whole request). So for c=1 the server runs on core 0 and the load
# generator on core 1, the same on every run. At c=32 nobody is pinned:
# the servers may use every core.
SERVER_PIN=()
LOADGEN_PIN=()
CAN_PIN=false
if command -v taskset >/dev/null && (( CORES >= 2 )); then
    CAN_PIN=true
fi
pin_for() {
    SERVER_PIN=() LOADGEN_PIN=()
    if [[ "$CAN_PIN" == true && "$1" == 1 ]]; then
        SERVER_PIN=(taskset -c 0)
        LOADGEN_PIN=(taskset -c 1)
    fi
}

start_server() {
    rm -f "$SERVER_LOG" "$SERVER_ERR"
    case "$1" in
        lesson*) start_lesson "$1" ;;
        python) start_python ;;
        nginx) start_nginx ;;
    esac
}

# Checks that the server sends the right file (or, for lesson01, its
# greeting) before we count how fast it does so. Sets CHECK_GOT to what
# came back, for the notes.
check_answer() {
    local server="$1" file="$2" url="http://127.0.0.1:$PORT/$2" got status
    CHECK_GOT=""
    if [[ "$file" == small.html ]]; then
        status="$(curl -s --max-time 5 -o "$WORK/check.body" -w '%{http_code} %{size_download} bytes %{time_total} s' "$url" 2>&1)" || true
        got="$(cat "$WORK/check.body" 2>/dev/null || true)"
        CHECK_GOT="$status"
        if [[ "$server" == lesson01 ]]; then
            [[ "$got" == "Hallo Welt" ]]
        else
            [[ "$got" == "$SMALL_BYTES" ]]
        fi
    else
        status="$(curl -s --max-time 30 -o /dev/null -w '%{http_code} %{size_download}' "$url" 2>&1)" || true
        CHECK_GOT="$status bytes"
        [[ "$status" == "200 $LARGE_SIZE" ]]
    fi
}

# While the load generator keeps CONNECTIONS clients busy, one more client
# (curl) asks for the small page once, a second into the run. How long it
# waits is what a newcomer sees on a busy server; a request that is never
# answered does not show up in wrk's numbers at all.
PROBE_DELAY=1
PROBE_TIMEOUT=3
start_probe() {
    (
        sleep "$PROBE_DELAY"
        curl -s -o /dev/null --max-time "$PROBE_TIMEOUT" -w '%{http_code} %{time_total}' \
            "http://127.0.0.1:$PORT/small.html" >"$WORK/probe.out" 2>/dev/null || true
    ) &
    PROBE_PID=$!
}

# Waits for the probe; sets PROBE to a cell for the table.
finish_probe() {
    local code seconds
    wait "$PROBE_PID" 2>/dev/null || true
    read -r code seconds <"$WORK/probe.out" || true
    if [[ "$code" == 200 ]]; then
        PROBE="$(awk -v s="$seconds" 'BEGIN { printf "%.1f ms", s * 1000 }')"
    elif [[ -z "$code" || "$code" == 000 ]]; then
        PROBE="no answer in ${PROBE_TIMEOUT} s"
    else
        PROBE="status $code"
    fi
}

# --- Measuring ---------------------------------------------------------------

cat >"$WORK/report.lua" <<'EOF'
-- Prints wrk's exact totals in one line, for the script to read.
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
EOF

# Reads the BENCH line that report.lua made wrk print; sets REQUESTS,
# BYTES, SECONDS_TAKEN, P50_MS and ERRORS.
parse_wrk_report() {
    local line key value
    line="$(grep '^BENCH ' "$1" || true)"
    [[ -n "$line" ]] || { ERRORS="no result from wrk"; return; }
    for pair in ${line#BENCH }; do
        key="${pair%%=*}" value="${pair#*=}"
        case "$key" in
            requests) REQUESTS="$value" ;;
            bytes) BYTES="$value" ;;
            duration_us) SECONDS_TAKEN="$(awk -v us="$value" 'BEGIN { printf "%.3f", us / 1e6 }')" ;;
            p50_us) P50_MS="$(awk -v us="$value" 'BEGIN { printf "%.2f", us / 1e3 }')" ;;
            connect|read|write|timeout)
                if (( value > 0 )); then ERRORS+="${ERRORS:+, }$value $key errors"; fi ;;
            status)
                if (( value > 0 )); then ERRORS+="${ERRORS:+, }$value non-2xx/3xx"; fi ;;
        esac
    done
    ERRORS="${ERRORS//timeout errors/timeouts}"
}

# Runs the load generator; sets REQUESTS, BYTES, SECONDS_TAKEN, P50_MS (the
# median latency) and ERRORS (a short text, empty when there were none).
load() {
    local url="$1" connections="$2" out="$WORK/loadgen.out" threads=1
    (( connections > 1 )) && threads=$(( CORES < connections ? CORES : connections ))
    REQUESTS=0 BYTES=0 SECONDS_TAKEN=1 P50_MS="-" ERRORS=""
    case "$LOADGEN" in
    wrk)
        if ! "${LOADGEN_PIN[@]}" timeout $((DURATION + 30)) wrk -t "$threads" -c "$connections" -d "${DURATION}s" \
            --timeout "${REQUEST_TIMEOUT}s" -s "$WORK/report.lua" "$url" >"$out" 2>&1; then
            ERRORS="wrk failed: $(tail -n 1 "$out")"
            return
        fi
        parse_wrk_report "$out"
        ;;
    oha)
        if ! "${LOADGEN_PIN[@]}" timeout $((DURATION + 30)) oha --no-tui "${OHA_JSON[@]}" -z "${DURATION}s" -c "$connections" \
            -t "${REQUEST_TIMEOUT}s" "$url" >"$out" 2>"$out.err"; then
            ERRORS="oha failed: $(tail -n 1 "$out.err")"
            return
        fi
        local parsed
        parsed="$(python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
codes = r.get("statusCodeDistribution", {})
ok = sum(n for code, n in codes.items() if 200 <= int(code) < 400)
bad = sum(n for code, n in codes.items() if not 200 <= int(code) < 400)
errors = [f"{bad} non-2xx/3xx"] if bad else []
# Requests still running when the time is up are not errors.
errors += [f"{n} x {what}" for what, n in r.get("errorDistribution", {}).items()
           if what != "aborted due to deadline"]
p50 = r.get("latencyPercentiles", {}).get("p50")
p50 = "-" if p50 is None else f"{p50 * 1000:.2f}"
print(ok + bad, s.get("totalData", 0), s["total"], p50, "; ".join(errors))
EOF
)"
        read -r REQUESTS BYTES SECONDS_TAKEN P50_MS ERRORS <<<"$parsed"
        ;;
    esac
}

# One measurement on a freshly started server. Sets CELL, the number for
# the table, P50_MS and PROBE; appends problems to NOTES.
measure() {
    local server="$1" file="$2" connections="$3" what="$4"
    PROBE="-" P50_MS="-"
    say "   $server: $what, $connections connection(s), ${DURATION}s"
    pin_for "$connections"
    if ! start_server "$server"; then
        NOTES+=("$what c=$connections: did not start")
        CELL="failed"
        stop_server "$SERVER_PID"; SERVER_PID=""
        return
    fi
    if ! check_answer "$server" "$file"; then
        NOTES+=("$what c=$connections: wrong answer to $file before the run (got: $CHECK_GOT), not measured")
        CELL="wrong answer"
        say "      -> wrong answer to $file: $CHECK_GOT"
        stop_server "$SERVER_PID"; SERVER_PID=""
        return
    fi
    (( connections > 1 )) && start_probe
    load "http://127.0.0.1:$PORT/$file" "$connections"
    (( connections > 1 )) && finish_probe
    # Time for the server to notice that the load generator has gone.
    sleep 0.5
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        NOTES+=("$what c=$connections: the server died")
    fi
    stop_server "$SERVER_PID"; SERVER_PID=""
    # What a lesson said on stderr during the run (the shutdown message
    # that SIGTERM brings aside): the most frequent line and the count.
    if [[ "$server" == lesson* ]]; then
        local complaints count line
        complaints="$( (grep -v '^Shutting down' "$SERVER_ERR" || true) | sort | uniq -c | sort -rn)"
        if [[ -n "$complaints" ]]; then
            count="$(awk '{ n += $1 } END { print n }' <<<"$complaints")"
            line="$(head -n 1 <<<"$complaints" | sed 's/^ *[0-9]* //')"
            NOTES+=("$what c=$connections: stderr $count x, e.g. \"$line\"")
        fi
    fi
    if [[ -n "$ERRORS" ]]; then
        NOTES+=("$what c=$connections: $ERRORS")
    fi
    if [[ "$what" == small ]]; then
        CELL="$(awk -v n="$REQUESTS" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", n / s }')"
    else
        CELL="$(awk -v b="$BYTES" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", b / s / 1e6 }')"
    fi
    say "      -> $CELL $([[ "$what" == small ]] && echo req/s || echo MB/s), median latency $P50_MS ms, newcomer: $PROBE${ERRORS:+ ($ERRORS)}"
}

# --- The main table: every server at c=1 and c=$CONNECTIONS ----------------

if [[ "$MODE" == bench && "$ONE_CORE_ONLY" != 1 ]]; then
    SERVERS=("${LESSONS[@]}" python nginx)
    ROWS=()
    for server in "${SERVERS[@]}"; do
        NOTES=()
        case "$server" in
            python) command -v python3 >/dev/null || { ROWS+=("| python3 -m http.server | - | - | - | - | - | - | - | not installed |"); continue; } ;;
            nginx) command -v nginx >/dev/null || { ROWS+=("| nginx | - | - | - | - | - | - | - | not installed |"); continue; } ;;
        esac
        say "== $server"
        cells=()
        for test in "small small.html 1" "small small.html $CONNECTIONS" \
                    "large large.bin 1" "large large.bin $CONNECTIONS"; do
            read -r what file connections <<<"$test"
            if [[ "$server" == lesson01 && "$what" == large ]]; then
                cells+=("-")
                (( connections > 1 )) && cells+=("-")
                continue
            fi
            measure "$server" "$file" "$connections" "$what"
            cells+=("$CELL")
            # The median latency of one lone client asking for the small file
            # tells more than its requests/s when a server stalls.
            if [[ "$what" == small && "$connections" == 1 ]]; then
                cells+=("$P50_MS")
            fi
            (( connections > 1 )) && cells+=("$PROBE")
        done
        name="$server"
        case "$server" in
            lesson01)
                lesson01_note="serves no files (the same 11-byte greeting for every request), so small test only"
                if [[ "$LOADGEN" == wrk ]]; then
                    lesson01_note+="; its body ends when the connection closes, which wrk also counts as a read error, one per response"
                fi
                NOTES=("$lesson01_note" "${NOTES[@]}")
                ;;
            python) name="python3 -m http.server" ;;
            nginx) name="nginx ($CORES workers, sendfile, access_log off)" ;;
        esac
        note=""
        for item in "${NOTES[@]}"; do note+="${note:+; }$item"; done
        row="| $name |"
        for cell in "${cells[@]}"; do row+=" $cell |"; done
        ROWS+=("$row ${note:-no errors} |")
    done
    for note in "${LATE_NOTES[@]}"; do ROWS+=("$note"); done

    # --- The table -----------------------------------------------------------------

    echo
    echo "Small file: $SMALL_SIZE bytes (small.html); large file: $((LARGE_SIZE / 1024 / 1024)) MiB (large.bin)."
    echo "Each cell: one ${DURATION}-second $LOADGEN run against a freshly started server on 127.0.0.1;"
    echo "c = concurrent keep-alive connections ($LOADGEN's own threads: 1 for c=1, $(( CORES < CONNECTIONS ? CORES : CONNECTIONS )) for c=$CONNECTIONS); request timeout ${REQUEST_TIMEOUT} s."
    if [[ "$CAN_PIN" == true ]]; then
        echo "For c=1 the server runs on core 0 and $LOADGEN on core 1 (taskset); for c=$CONNECTIONS nobody is pinned."
    else
        echo "Nobody is pinned to a core (no taskset, or a single core)."
    fi
    echo "MB/s = 10^6 bytes of response (head and body) per second. A $LOADGEN timeout is a response that took longer"
    echo "than ${REQUEST_TIMEOUT} s; a request that is never answered shows up nowhere in $LOADGEN's numbers. Hence the newcomer columns:"
    echo "one more client (curl) asks for the small page ${PROBE_DELAY} s into the c=$CONNECTIONS run and gives up after ${PROBE_TIMEOUT} s."
    echo
    echo "| server | small req/s, c=1 | small median latency ms, c=1 | small req/s, c=$CONNECTIONS | newcomer's wait for the small page during small c=$CONNECTIONS | large MB/s, c=1 | large MB/s, c=$CONNECTIONS | newcomer's wait for the small page during large c=$CONNECTIONS | notes (errors and timeouts as $LOADGEN reports them) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for row in "${ROWS[@]}"; do echo "$row"; done
    echo
    for fact in "${FACTS[@]}"; do echo "- $fact"; done
fi

# --- One core: every lesson next to nginx with one worker --------------------

# Every server on core 0 (taskset -c 0), wrk with one thread and 10
# keep-alive connections on core 1, BENCH_ONE_CORE_DURATION seconds per
# run; three tests per server, three rounds, the median of the three.
OC_DURATION="${BENCH_ONE_CORE_DURATION:-3}"
OC_CONNECTIONS=10
OC_ROUNDS=3
OC_SERVER_PIN=()
OC_LOAD_PIN=()
if [[ "$CAN_PIN" == true ]]; then
    OC_SERVER_PIN=(taskset -c 0)
    OC_LOAD_PIN=(taskset -c 1)
fi

# The path a test asks for: lessons 01-04 serve no files, only `/`.
oc_path() {
    local server="$1" test="$2"
    if [[ "$server" =~ ^lesson0[1-4]$ ]]; then
        echo ""
    elif [[ "$test" == medium ]]; then
        echo medium.bin
    else
        echo small.html
    fi
}

# Checks the answer before a run; sets CHECK_GOT.
oc_check() {
    local server="$1" test="$2" path status
    path="$(oc_path "$server" "$test")"
    rm -f "$WORK/check.body"
    status="$(curl -s --max-time 10 -o "$WORK/check.body" -w '%{http_code} %{size_download}' \
        "http://127.0.0.1:$PORT/$path" 2>&1)" || true
    CHECK_GOT="$status bytes"
    case "$path" in
        "") [[ "$status" == 200\ * ]] ;;
        small.html) [[ "$status" == "200 $SMALL_SIZE" ]] && cmp -s "$WORK/check.body" "$ROOT/small.html" ;;
        medium.bin) [[ "$status" == "200 $MEDIUM_SIZE" ]] && cmp -s "$WORK/check.body" "$ROOT/medium.bin" ;;
    esac
}

# One wrk run; sets REQUESTS, BYTES, SECONDS_TAKEN and ERRORS.
oc_wrk() {
    local url="$1" test="$2" out="$WORK/oc-wrk.out" header=()
    [[ "$test" == close ]] && header=(-H "Connection: close")
    REQUESTS=0 BYTES=0 SECONDS_TAKEN=1 P50_MS="-" ERRORS=""
    if ! "${OC_LOAD_PIN[@]}" timeout $((OC_DURATION + 30)) wrk -t1 -c"$OC_CONNECTIONS" -d"${OC_DURATION}s" \
        --timeout "${REQUEST_TIMEOUT}s" "${header[@]}" -s "$WORK/report.lua" "$url" >"$out" 2>&1; then
        ERRORS="wrk failed: $(tail -n 1 "$out")"
        return
    fi
    parse_wrk_report "$out"
}

# The median of the numbers among the words of $1 ("-" when there are none).
median() {
    tr ' ' '\n' <<<"$1" | { grep -E '^[0-9]+(\.[0-9]+)?$' || true; } | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) print "-"
            else if (NR % 2) print v[(NR + 1) / 2]
            else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "0.67×", or "-" when either number is missing.
ratio() {
    if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] && [[ "$2" != 0 ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'
    else
        echo "-"
    fi
}

declare -A OC_VALUES=() OC_ERRS=()
OC_HWM_KB=0

# One run on a freshly started server: records the number and any problem.
oc_measure() {
    local server="$1" test="$2" round="$3" key="$1 $2" value=failed problem="" url hwm
    SERVER_PIN=("${OC_SERVER_PIN[@]}")
    if ! start_server "$server"; then
        problem="did not start"
    elif ! oc_check "$server" "$test"; then
        problem="wrong answer before the run (got: $CHECK_GOT), not measured"
        value="wrong answer"
    else
        url="http://127.0.0.1:$PORT/$(oc_path "$server" "$test")"
        oc_wrk "$url" "$test"
        if [[ "$test" == medium ]]; then
            value="$(awk -v b="$BYTES" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", b / s / 1e6 }')"
        else
            value="$(awk -v n="$REQUESTS" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", n / s }')"
        fi
        problem="$ERRORS"
        if [[ "$server" == "$LAST_LESSON" && "$test" == keepalive ]]; then
            hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || true)"
            if [[ -n "$hwm" ]] && (( hwm > OC_HWM_KB )); then OC_HWM_KB="$hwm"; fi
        fi
        sleep 0.2
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            problem+="${problem:+, }the server died"
        fi
    fi
    stop_server "$SERVER_PID"; SERVER_PID=""
    OC_VALUES["$key"]+=" $value"
    if [[ -n "$problem" ]]; then
        OC_ERRS["$key"]+="${OC_ERRS[$key]:+; }round $round: $problem"
    fi
    say "      -> $value${problem:+ ($problem)}"
}

# The grader's own speed: all of the last lesson's checks against its
# copied binary, which the grader starts itself.
grader_speed() {
    if [[ ! -x "$WORK/bin/$LAST_LESSON" ]]; then
        echo "grader: not measured ($LAST_LESSON does not compile)"
        return
    fi
    say "== The grader's speed (cargo build --release -p grader; grader $LAST_LESSON)"
    if ! (cd "$REPO" && cargo build --release --quiet -p grader >&2); then
        echo "grader: not measured (it does not compile)"
        return
    fi
    cp "$TARGET_DIR/release/grader" "$WORK/bin/"
    local cmd start end passed failed
    cmd="$WORK/bin/$LAST_LESSON --port {port} --root {root} --data {data} --head-timeout {head_timeout}"
    cmd+=" --body-timeout {body_timeout} --min-body-rate {min_body_rate} --max-guestbook {max_guestbook}"
    cmd+=" --max-body {max_body} --max-storage {max_storage} --idle-timeout {idle_timeout}"
    cmd+=" --max-connections {max_connections} --access-log {access_log}"
    start="$(date +%s.%N)"
    (cd "$WORK" && "$WORK/bin/grader" "$LAST_LESSON" --format json --cmd "$cmd" >"$WORK/grader.json" 2>"$WORK/grader.err") || true
    end="$(date +%s.%N)"
    read -r passed failed < <(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["passed"], r["failed"])' \
        "$WORK/grader.json" 2>/dev/null || echo "- -")
    if [[ "$passed" == - ]]; then
        echo "grader: no result ($(tail -n 1 "$WORK/grader.err"))"
        return
    fi
    echo "grader: $((passed + failed)) checks of $LAST_LESSON in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s$( ((failed > 0)) && echo " ($failed failed)")"
}

cold_build() {
    if [[ "${BENCH_COLD_BUILD:-0}" != 1 ]]; then
        echo "cold cargo build --workspace: skipped (set BENCH_COLD_BUILD=1 to measure it)"
        return
    fi
    say "== A cold build (cargo build --workspace into an empty target folder)"
    local dir start end
    dir="$(mktemp -d "${TMPDIR:-/tmp}/diy-http-cold.XXXXXX")"
    start="$(date +%s.%N)"
    if (cd "$REPO" && CARGO_TARGET_DIR="$dir" cargo build --workspace --quiet >&2); then
        end="$(date +%s.%N)"
        echo "cold cargo build --workspace: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
    else
        echo "cold cargo build --workspace: failed"
    fi
    rm -rf "$dir"
}

one_core() {
    if ! command -v wrk >/dev/null; then
        echo
        echo "One core: skipped, it needs wrk (Debian/Ubuntu: apt-get install wrk)"
        return
    fi
    local servers=() server test round name note row base nginx_cell cell
    local tests=(keepalive close medium)
    command -v nginx >/dev/null && servers+=(nginx)
    command -v python3 >/dev/null && servers+=(python)
    servers+=("${ONE_CORE_LESSONS[@]}")
    NGINX_WORKERS=1
    for round in $(seq "$OC_ROUNDS"); do
        say "== One core, round $round of $OC_ROUNDS"
        for server in "${servers[@]}"; do
            for test in "${tests[@]}"; do
                if [[ "$server" =~ ^lesson0[1-4]$ && "$test" == medium ]]; then continue; fi
                say "   $server: $test, ${OC_DURATION}s"
                oc_measure "$server" "$test" "$round"
            done
        done
    done

    declare -A median_of=()
    for server in "${servers[@]}"; do
        for test in "${tests[@]}"; do
            median_of["$server $test"]="$(median "${OC_VALUES[$server $test]:-}")"
        done
    done

    echo
    echo "One core: every server pinned to core 0 (taskset -c 0), the load on core 1: wrk -t1 -c$OC_CONNECTIONS -d${OC_DURATION}s."
    echo "Small file: $SMALL_SIZE bytes (small.html), keep-alive and with \"Connection: close\"; 1 MiB: $MEDIUM_SIZE bytes (medium.bin), keep-alive."
    echo "Each cell: the median of $OC_ROUNDS rounds, a freshly started server for every run; ratio = the server's number divided by nginx's."
    echo "MB/s = 10^6 bytes of response (head and body) per second. Lessons 01-04 serve no files: they get \`/\`, and no 1 MiB test."
    [[ "$CAN_PIN" == true ]] || echo "Nobody is pinned to a core (no taskset, or a single core)."
    echo
    echo "| server | small keep-alive req/s | ratio | small close req/s | ratio | 1 MiB MB/s | ratio | notes |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    command -v nginx >/dev/null || echo "| nginx (1 worker) | - | - | - | - | - | - | not installed |"
    command -v python3 >/dev/null || echo "| python3 -m http.server | - | - | - | - | - | - | not installed |"
    for server in "${servers[@]}"; do
        case "$server" in
            nginx) name="nginx (1 worker, sendfile, tcp_nopush, access_log off)" ;;
            python) name="python3 -m http.server" ;;
            *) name="$server" ;;
        esac
        note=""
        [[ "$server" =~ ^lesson0[1-4]$ ]] && note="no files yet: /"
        row="| $name |"
        for test in "${tests[@]}"; do
            cell="${median_of[$server $test]}"
            nginx_cell="${median_of[nginx $test]:-}"
            if [[ "$server" =~ ^lesson0[1-4]$ && "$test" == medium ]]; then
                row+=" - | - |"
            else
                row+=" $cell | $(ratio "$cell" "$nginx_cell") |"
            fi
            base="${OC_ERRS[$server $test]:-}"
            if [[ -n "$base" ]]; then
                case "$test" in
                    keepalive) base="small keep-alive: $base" ;;
                    close) base="small close: $base" ;;
                    medium) base="1 MiB: $base" ;;
                esac
                note+="${note:+; }$base"
            fi
        done
        echo "$row ${note:-no errors} |"
    done
    for server in "${ONE_CORE_BROKEN[@]}"; do
        echo "| $server | - | - | - | - | - | - | does not compile |"
    done
    echo
    if (( OC_HWM_KB > 0 )); then
        echo "$LAST_LESSON peak RSS under load: $(awk -v k="$OC_HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
    else
        echo "$LAST_LESSON peak RSS under load: not measured"
    fi
    echo
    grader_speed
    cold_build
    if [[ "$ONE_CORE_ONLY" == 1 ]]; then
        echo
        for fact in "${FACTS[@]}"; do echo "- $fact"; done
    fi
}

# --- System calls per request ------------------------------------------------

SYSCALLS_REQUESTS=5000

syscalls() {
    command -v strace >/dev/null || die "strace is not installed (Debian/Ubuntu: apt-get install strace)"
    command -v wrk >/dev/null || die "--syscalls needs wrk (Debian/Ubuntu: apt-get install wrk)"
    local lesson="$SYSCALLS_LESSON" path child out="$WORK/strace.out" log_lines
    path="$(oc_path "$lesson" keepalive)"
    cat >"$WORK/stop.lua" <<LUA
-- Stops after $SYSCALLS_REQUESTS responses, then prints the totals.
local count = 0
response = function(status, headers, body)
    count = count + 1
    if count >= $SYSCALLS_REQUESTS then wrk.thread:stop() end
end
LUA
    cat "$WORK/report.lua" >>"$WORK/stop.lua"
    say "== $lesson under strace -f -c, on core 0"
    SERVER_PIN=("${OC_SERVER_PIN[@]}" strace -f -c -o "$out")
    start_lesson "$lesson" || die "$lesson did not start under strace"
    oc_check "$lesson" keepalive || die "wrong answer to /$path: $CHECK_GOT"
    say "   wrk -t1 -c10 -d2s, keep-alive, /$path, stopping after $SYSCALLS_REQUESTS responses"
    REQUESTS=0 BYTES=0 SECONDS_TAKEN=1 P50_MS="-" ERRORS=""
    "${OC_LOAD_PIN[@]}" timeout 40 wrk -t1 -c10 -d2s --timeout "${REQUEST_TIMEOUT}s" -s "$WORK/stop.lua" \
        "http://127.0.0.1:$PORT/$path" >"$WORK/oc-wrk.out" 2>&1 || die "wrk failed: $(tail -n 1 "$WORK/oc-wrk.out")"
    parse_wrk_report "$WORK/oc-wrk.out"
    (( REQUESTS > 0 )) || die "wrk got no responses"
    # SERVER_PID is strace (taskset execs it); the server is its child.
    sleep 0.5
    child="$(pgrep -P "$SERVER_PID" | head -n 1 || true)"
    [[ -n "$child" ]] || die "the server is gone before SIGINT"
    kill -INT "$child"
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    stop_server "$SERVER_PID"; SERVER_PID=""
    [[ -s "$out" ]] || die "strace wrote no summary"
    log_lines="$(grep -vc '^Listening on' "$SERVER_LOG" || true)"
    echo
    echo "$lesson under \`strace -f -c\` (core 0): $REQUESTS keep-alive requests for /$path counted by wrk"
    echo "(wrk -t1 -c10, core 1, stops after $SYSCALLS_REQUESTS responses or 2 s)${ERRORS:+; wrk: $ERRORS}; the server logged $log_lines requests (the"
    echo "check with curl included). Calls per request = calls / $REQUESTS, start and shutdown included; only calls with at least 0.05 per request."
    echo
    echo "| system call | calls per request |"
    echo "| --- | ---: |"
    awk -v n="$REQUESTS" '
        /^-+/ { dashes++; next }
        dashes == 1 && NF >= 5 && $4 ~ /^[0-9]+$/ { calls[$NF] = $4; total += $4 }
        END {
            for (name in calls) if (calls[name] / n >= 0.05) printf "%s %.1f %d\n", name, calls[name] / n, calls[name]
            printf "TOTAL %.1f %d\n", total / n, total > "/dev/stderr"
        }' "$out" 2>"$WORK/strace.total" | sort -k3,3nr | awk '{ printf "| `%s` | %s |\n", $1, $2 }'
    awk '{ printf "| total (all calls) | %s |\n", $2 }' "$WORK/strace.total"
}

case "$MODE" in
    syscalls) syscalls ;;
    bench) one_core ;;
esac
