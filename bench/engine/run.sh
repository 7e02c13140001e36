#!/usr/bin/env bash
# Processing-engine benchmark against the real binary and the real stub analysis service
# (siterelay_stub_analysis), each scenario on a fresh data folder and a server started
# --headless --bind 127.0.0.1 --port 0:
#   1. leak:       10,000 tasks whose analysis call is never answered (stub "never";
#                  analysis/timeoutMs=2000 engine/attemptDeadlineMs=2000 retry/maxAttempts=1
#                  report/enabled=false engine/maxInFlight=256; the deadline also bounds calls waiting for
#                  one of the analysis/maxConcurrent slots):
#                  time until all are timed_out (polled every 500 ms), threads and RSS (sampled every
#                  100 ms from /proc) idle → peak → after, engine.attemptsInFlight/openRequests after,
#                  the server's TCP connections to the stub after and how long they linger, the stub's
#                  count of open connections at its stop. RSS control: the same ingest with the engine off
#                  (from scenario 2a).
#   2. ingest:     ack p99 of wrk -c64 for 10 s with the engine off versus with 10,000 slow tasks queued or
#                  running (stub "never", analysis/timeoutMs=10000, maxInFlight=256), each after the same
#                  10,000-submission prefill; report/enabled=false in both.
#   3. throughput: tasks/s with the stub in "fast" mode, PDF reports off (5,000 tasks) and on (1,000),
#                  on a backlog: submitted with engine/enabled=false, then processed after a restart on the
#                  same data (polled every 200 ms from the listening line). A diagnostic run without the
#                  analysis call separates the store's share from the network's. Compared with the ingest
#                  rate of 2 (engine off).
#   4. diagnostic: 1,000 tasks against a service that answers after 500 ms, analysis/timeoutMs=2000
#                  (maxInFlight=256): how many are processed rather than timed out.
# Each phase prints where the machine's CPU went (server threads, stub, wrk, everything else).
#
#   bench/engine/run.sh [BUILD_DIR]        (default: build-bench, relative to the repository)
#
# Needs wrk and sqlite3 (installed with apt-get if missing). Configures and builds the Release
# siterelay and siterelay_stub_analysis targets if BUILD_DIR lacks them. Takes 2.5-5 minutes (up to
# 2 of them waiting for idle connections to close in 1).
# Environment knobs (defaults in brackets): LEAK_TASKS [10000], LOAD_TASKS [10000], LOAD_SECONDS [10],
# FAST_TASKS [5000], PDF_TASKS [1000], SLOW_TASKS [1000], SLOW_DELAY_MS [500],
# BENCH_SCENARIOS ["leak ingest throughput slow"].
# Exit status: 0 if every run was clean (targets missed are reported, not failed); 1 if a run went
# wrong (server or stub did not start or died, a submission was not answered 202, a scenario did
# not settle).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$here/../lib.sh"
build_dir=$(resolve_build_dir "${1:-}")
binary="$build_dir/app/siterelay"
stub_binary="$build_dir/bench/siterelay_stub_analysis"

leak_tasks=${LEAK_TASKS:-10000}
load_tasks=${LOAD_TASKS:-10000}
load_seconds=${LOAD_SECONDS:-10}
fast_tasks=${FAST_TASKS:-5000}
pdf_tasks=${PDF_TASKS:-1000}
slow_tasks=${SLOW_TASKS:-1000}
slow_delay=${SLOW_DELAY_MS:-500}
scenarios=${BENCH_SCENARIOS:-leak ingest throughput slow}

ensure_tool wrk wrk
ensure_tool sqlite3 sqlite3

ensure_built "$build_dir" siterelay siterelay_stub_analysis

work=$(mktemp -d "${TMPDIR:-/tmp}/siterelay-engine-bench.XXXXXX")
server_pid="" stub_pid="" wrk_pid=""
stop_pid() { # pid: SIGTERM, then SIGKILL after 10 s
    [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
    if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
    if [[ -n $wrk_pid ]]; then kill -KILL "$wrk_pid" 2>/dev/null || true; fi
    stop_pid "$stub_pid"
    stop_pid "$server_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server's QGuiApplication (for PDF reports) warns once per start without a runtime directory.
private_runtime_dir "$work/runtime"

clk_tck=$(getconf CLK_TCK)
now() { echo "${EPOCHREALTIME/,/.}"; } # seconds with microseconds
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- /api/v1/stats (loopback clients need no token) ------------------------------------------------
# Polled every 50-500 ms while the figures are taken, so without starting a process: bash's
# /dev/tcp and builtins only (curl, grep and sed per poll cost a fifth of a core).
stats() {
    local fd reply=""
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 0
    printf 'GET /api/v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd"
    IFS= read -r -d '' -t 5 -u "$fd" reply || true # -d '': read to the end, as the server closes
    exec {fd}>&-
    [[ $reply == "HTTP/1.1 200"* ]] && echo "${reply#*$'\r\n\r\n'}"
    return 0
}
jget() { # json section key -> the number (the sections are flat objects)
    local re="\"$2\":\\{[^}]*\"$3\":(-?[0-9]+)"
    [[ $1 =~ $re ]] && echo "${BASH_REMATCH[1]}"
    return 0
}

# --- process sampling ----------------------------------------------------------------------------------
# start_sampler (bench/lib.sh) samples every 100 ms here: the leak scenario's peak is short-lived.

thread_names() { # pid -> "name×count, ..." of its threads now
    cat /proc/"$1"/task/*/comm 2>/dev/null | sort | uniq -c | sort -rn | awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "%s%s×%d", (NR > 1 ? ", " : ""), $0, n }'
}

# Per thread: CPU time (utime+stime ticks) and the time it was runnable but waited for a CPU
# (schedstat run_delay, ns). A thread that is slow while using little CPU and waiting little for
# one is blocked (a lock, I/O, another thread); one that waits a lot is starved by the machine.
wrk_ticks=0 # CPU ticks of every wrk run so far (they come and go between snapshots)
cpu_snapshot() { # server-pid -> lines "tid comm ticks run_delay_ns" per server thread, then the stub, wrk and the machine
    local stat f
    thread_ticks "$1"
    echo "stub - $([[ -n $stub_pid ]] && process_ticks "$stub_pid" || echo 0) 0"
    echo "wrk - $wrk_ticks 0"
    # Every other process alive now (kernel threads too), and what this script's reaped children
    # used (wrk, and the curl/sed/awk of the polls).
    local proc name
    for proc in /proc/[0-9]*; do
        [[ ${proc#/proc/} == "$1" || ${proc#/proc/} == "$stub_pid" || ${proc#/proc/} == "$$" ]] && continue
        { read -r stat <"$proc/stat"; } 2>/dev/null || continue
        name=${stat#*(} name=${name%)*} stat=${stat##*) }
        read -r -a f <<<"$stat"
        echo "p${proc#/proc/} ${name// /_} $((f[11] + f[12])) 0"
    done
    read -r stat <"/proc/$$/stat"
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo "children - $((f[13] + f[14])) 0"
    # All CPUs, all processes: user+nice+system+irq+softirq+steal ticks.
    echo "machine - $(machine_busy_ticks) 0"
}
cpu_report() { # before-file after-file seconds -> CPU per server thread name (busiest first), stub, wrk, others
    awk -v secs="$3" -v tck="$clk_tck" -v cores="$(nproc)" '
        NR == FNR { before[$1] = $3; delay0[$1] = $4; next }
        $1 == "machine" { machine = 100 * ($3 - before["machine"]) / tck / secs; next }
        $1 == "stub" || $1 == "wrk" || $1 == "children" { ext[$1] = 100 * ($3 - before[$1]) / tck / secs; if (ext[$1] < 0) ext[$1] = 0; next }
        $1 ~ /^p[0-9]/ { if ($1 in before) others[$2] += 100 * ($3 - before[$1]) / tck / secs; next }
        {
            used = 100 * ($3 - ($1 in before ? before[$1] : 0)) / tck / secs
            pct[$2] += used; total += used
            wait += 100 * ($4 - ($1 in delay0 ? delay0[$1] : 0)) / 1e9 / secs
        }
        END {
            n = 0; for (t in pct) order[++n] = t
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (pct[order[j]] > pct[order[i]]) { x = order[i]; order[i] = order[j]; order[j] = x }
            line = sprintf("%.0f%% of one core (", total); sep = ""
            for (i = 1; i <= n; i++) if (pct[order[i]] >= 1) { line = line sprintf("%s%s %.0f%%", sep, order[i], pct[order[i]]); sep = ", " }
            polls = ext["children"] - ext["wrk"]; if (polls < 0) polls = 0
            other = machine - total - ext["stub"] - ext["wrk"] - polls; if (other < 0) other = 0
            m = 0; for (t in others) oorder[++m] = t
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (others[oorder[j]] > others[oorder[i]]) { x = oorder[i]; oorder[i] = oorder[j]; oorder[j] = x }
            top = ""; for (i = 1; i <= m && i <= 3; i++) if (others[oorder[i]] >= 2) top = top sprintf("%s%s %.0f%%", (top == "" ? "" : ", "), oorder[i], others[oorder[i]])
            printf "server %s); stub %.0f%%, wrk %.0f%%, this script'"'"'s polls %.0f%%, everything else %.0f%%%s (machine %.0f%% of %d%%); server threads waited for a CPU %.0f%% (sum over threads)\n", line, ext["stub"], ext["wrk"], polls, other, (top == "" ? "" : " (" top ")"), machine, 100 * cores, wait
        }' "$1" "$2"
}

# --- stub and server lifecycle -------------------------------------------------------------------------
stub_port="" stub_counters="" stub_log=""
start_stub() { # mode [delay-ms]
    stub_log="$work/stub.$1.$tag.log"
    "$stub_binary" --port 0 --mode "$1" --delay-ms "${2:-1000}" >"$stub_log" 2>&1 &
    stub_pid=$!
    stub_port=$(wait_for_port "$stub_log" "$stub_pid" 15 0.05) || { fail "stub ($1) did not start: $(cat "$stub_log")"; return 1; }
}
stop_stub() { # -> stub_counters "requests=.. answered=.. rejected=.. connections=.. open=.."
    stop_pid "$stub_pid"
    wait "$stub_pid" 2>/dev/null || fail "stub exited with status $? after SIGTERM"
    stub_pid=""
    stub_counters=$(sed -n 's/^stub counters: //p' "$stub_log")
    [[ -n $stub_counters ]] || fail "stub printed no counters"
}

data_dir="" port="" token=""
new_data_dir() { data_dir=$(mktemp -d "$work/data.XXXXXX"); }
server_settings=()
start_server() { # settings... (uses data_dir; adds the device token on first use)
    server_settings=(--data-dir "$data_dir" "$@")
    if [[ ! -s $data_dir/token ]]; then
        # The device must exist before the server starts; the token is the last line printed.
        "$binary" device add bench-tablet "${server_settings[@]}" 2>>"$data_dir/device-add.log" | tail -n 1 >"$data_dir/token"
    fi
    token=$(<"$data_dir/token")
    [[ $token =~ ^[A-Za-z0-9_.-]+$ ]] || { fail "device add printed no token"; return 1; }
    : >"$data_dir/stdout.log"
    "$binary" --headless --bind 127.0.0.1 --port 0 "${server_settings[@]}" >"$data_dir/stdout.log" 2>>"$data_dir/stderr.log" &
    server_pid=$!
    local status=0
    port=$(wait_for_port "$data_dir/stdout.log" "$server_pid" 30 0.02) || status=$?
    case $status in
    1) fail "server exited at start: $(tail -n 5 "$data_dir/stderr.log")"; return 1 ;;
    2) fail "server did not print its listening line within 30 s"; return 1 ;;
    esac
}
stop_server() {
    stop_server_pid "$server_pid" 30 "$data_dir/stderr.log" "" ""
    server_pid=""
}

db_query() { sqlite3 -batch -cmd '.timeout 10000' "$data_dir/siterelay.sqlite" "$1"; }

# --- load ------------------------------------------------------------------------------------------------
wrk_result() { # out-file -> checks it; sets w_acked w_p99 w_rps
    local result
    result=$(grep '^RESULT ' "$1" || true)
    if [[ -z $result ]]; then
        fail "no RESULT line from wrk: $(tail -n 3 "$1")"
        w_acked=0 w_p99=0 w_rps=0
        return
    fi
    w_acked=$(field acked "$result")
    local other errors
    other=$(field other "$result")
    errors=$(($(field connectErr "$result") + $(field readErr "$result") + $(field writeErr "$result") + $(field timeoutErr "$result")))
    ((other == 0)) || fail "wrk: $other submissions not answered 202 ($(field statuses "$result"))"
    ((errors == 0)) || fail "wrk: $errors socket errors ($(grep -o 'connectErr.*' <<<"$result"))"
    w_p99=$(calc "printf \"%.1f\", $(field p99Us "$result") / 1000")
    w_rps=$(calc "printf \"%.0f\", $w_acked / ($(field durationUs "$result") / 1e6)")
}

tag=1
# Submits exactly COUNT new submissions over 64 connections as fast as the server takes them: wrk
# issues no more than COUNT POSTs and is stopped once the server counts them accepted.
submit_bounded() { # count -> s_secs (wall time until the server had accepted all)
    local count=$1 base out="$work/wrk.$tag"
    base=$(jget "$(stats)" ingest accepted)
    base=${base:-0}
    local t0
    t0=$(now)
    wrk -t1 -c64 -d600s --timeout 10s -s "$here/submit.lua" "http://127.0.0.1:$port/api/v1/submissions" \
        -- "$token" "$tag" "$count" >"$out" 2>&1 &
    wrk_pid=$!
    tag=$((tag + 1))
    local accepted=0 deadline=$((SECONDS + 300))
    while kill -0 "$wrk_pid" 2>/dev/null; do
        accepted=$(jget "$(stats)" ingest accepted)
        ((${accepted:-0} - base >= count)) && break
        ((SECONDS < deadline)) || { fail "bounded submit: only $((accepted - base)) of $count accepted in 300 s"; break; }
        sleep 0.05
    done
    s_secs=$(elapsed "$t0" "$(now)")
    wrk_ticks=$((wrk_ticks + $(process_ticks "$wrk_pid")))
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || fail "wrk (bounded) exited with an error: $(tail -n 3 "$out")"
    wrk_pid=""
    wrk_result "$out"
    ((w_acked == count)) || fail "bounded submit: $w_acked of $count acknowledged"
}

measure_ingest() { # seconds -> w_p99 w_rps
    local out="$work/wrk.$tag" TIMEFORMAT='%U %S' user sys
    { time wrk -t1 -c64 -d"$1s" --timeout 10s --latency -s "$here/submit.lua" "http://127.0.0.1:$port/api/v1/submissions" \
        -- "$token" "$tag" 0 >"$out" 2>&1; } 2>"$out.time" || fail "wrk exited with an error: $(tail -n 3 "$out")"
    read -r user sys <"$out.time"
    wrk_ticks=$((wrk_ticks + $(calc "printf \"%d\", ($user + $sys) * $clk_tck")))
    tag=$((tag + 1))
    wrk_result "$out"
}

settled_count() { # stats-json -> processed+failed+timed_out+cancelled
    local s=$1
    echo $(($(jget "$s" submissions processed) + $(jget "$s" submissions failed) + $(jget "$s" submissions timed_out) + $(jget "$s" submissions cancelled)))
}

wait_settled() { # expected-count timeout-seconds interval -> sets settle_t (time of the poll that saw it), peak_inflight
    local expected=$1 limit=$2 interval=$3 s n inflight
    local deadline=$((SECONDS + limit))
    peak_inflight=0
    while :; do
        s=$(stats)
        if [[ -n $s ]]; then
            inflight=$(jget "$s" engine attemptsInFlight)
            ((inflight > peak_inflight)) && peak_inflight=$inflight
            n=$(settled_count "$s")
            ((n >= expected)) && { settle_t=$(now); return 0; }
        fi
        ((SECONDS < deadline)) || { fail "only ${n:-?} of $expected tasks settled within $limit s"; settle_t=$(now); return 1; }
        sleep "$interval"
    done
}

# --- the run -----------------------------------------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "SiteRelay processing-engine benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "binary:   $binary ($("$binary" --version 2>/dev/null | head -n 1 || echo '?'))"
echo "machine:  $(machine_summary)"
echo "load:     $load_start (1/5/15 min) at start"
echo "NOTE:     wrk, the stub and the server share the machine's $(nproc) cores."
echo
declare -A R

scenario_leak() {
    echo "== 1. leak: stub never; analysis/timeoutMs=2000 engine/attemptDeadlineMs=2000 retry/maxAttempts=1 report/enabled=false engine/maxInFlight=256"
    start_stub never || return
    new_data_dir
    start_server --set "analysis/url=http://127.0.0.1:$stub_port/analyse" --set analysis/token=bench \
        --set analysis/timeoutMs=2000 --set retry/maxAttempts=1 --set report/enabled=false \
        --set engine/maxInFlight=256 --set engine/attemptDeadlineMs=2000 || return
    sleep 1 # let start-up allocations settle before taking the baseline
    local rss0 thr0 s
    rss0=$(status_field "$server_pid" VmRSS)
    thr0=$(status_field "$server_pid" Threads)
    s=$(stats)
    R[leak.pool]=$(jget "$s" engine workersMax)
    echo "   idle: RSS $(mb "$rss0") MB, $thr0 threads ($(thread_names "$server_pid")); pool size ${R[leak.pool]}"
    start_sampler "$server_pid" "$work/leak.sample" 0.1
    cpu_snapshot "$server_pid" >"$work/leak.cpu0"
    local t0
    t0=$(now)
    submit_bounded "$leak_tasks"
    R[leak.ingest_s]=$s_secs
    echo "   $leak_tasks submissions accepted in ${s_secs} s; RSS $(mb "$(status_field "$server_pid" VmRSS)") MB, threads: $(thread_names "$server_pid")"
    wait_settled "$leak_tasks" 240 0.5 || true
    local settle_secs
    settle_secs=$(elapsed "$t0" "$settle_t")
    cpu_snapshot "$server_pid" >"$work/leak.cpu1"
    R[leak.cpu]=$(cpu_report "$work/leak.cpu0" "$work/leak.cpu1" "$settle_secs")
    R[leak.settle_s]=$settle_secs
    R[leak.peak_inflight]=$peak_inflight
    sleep 2 # deleteLater()ed attempts and replies, and closed sockets, are gone by then
    s=$(stats)
    stop_sampler
    local peak_rss peak_thr rss1
    read -r peak_rss peak_thr <"$work/leak.sample"
    rss1=$(status_field "$server_pid" VmRSS)
    R[leak.thr0]=$thr0 R[leak.peak_thr]=$peak_thr R[leak.thr1]=$(status_field "$server_pid" Threads)
    R[leak.rss0]=$(mb "$rss0") R[leak.peak_rss]=$(mb "$peak_rss") R[leak.rss1]=$(mb "$rss1")
    R[leak.rss_ratio]=$(calc "printf \"%.2f\", $rss1 / $rss0")
    R[leak.timed_out]=$(jget "$s" submissions timed_out)
    R[leak.inflight]=$(jget "$s" engine attemptsInFlight)
    R[leak.open]=$(jget "$s" engine openRequests)
    R[leak.theory]=$(calc "printf \"%.0f\", $leak_tasks / 256 * 2")
    echo "   settled after $settle_secs s (theory ${R[leak.theory]} s); peak attempts in flight $peak_inflight"
    echo "   threads now: $(thread_names "$server_pid")"
    echo "   server CPU over the scenario: ${R[leak.cpu]}"
    # TCP's view of the same connections: established ones the server holds towards the stub, and
    # the states of every socket on the stub's port (CLOSE-WAIT on the stub side: the server closed
    # it and the stub has not noticed yet).
    R[leak.ss_client]=$(ss -Htn state established "( dport = :$stub_port )" | wc -l)
    # bytes_sent is shown only once non-zero: a socket without it never carried a request.
    R[leak.ss_data]=$(ss -Htni state established "( dport = :$stub_port )" | grep -c 'bytes_sent:[1-9]' || true)
    R[leak.ss_states]=$(ss -Htan "( sport = :$stub_port or dport = :$stub_port )" | awk '$1 != "LISTEN" { n[$1]++ } END { for (k in n) printf "%s%s %d", (i++ ? ", " : ""), k, n[k] }')
    echo "   sockets to the stub: ${R[leak.ss_client]} established by the server (${R[leak.ss_data]} of them ever sent a byte); all states on its port: ${R[leak.ss_states]:-none}"
    # Idle keep-alive connections are QNetworkAccessManager's pool, which expires them on its own
    # schedule: wait (up to 180 s) to tell a pool from a leak.
    local linger_t0 left=${R[leak.ss_client]} linger_deadline=$((SECONDS + 180))
    linger_t0=$(now)
    while ((left > 0 && SECONDS < linger_deadline)); do
        sleep 2
        left=$(ss -Htn state established "( dport = :$stub_port )" | wc -l)
    done
    R[leak.linger]=$(elapsed "$linger_t0" "$(now)") R[leak.linger_left]=$left
    echo "   $left connections to the stub left after ${R[leak.linger]} s more; RSS then $(mb "$(status_field "$server_pid" VmRSS)") MB"
    # The stub first, so that its count of open connections is the server's doing, not the shutdown's.
    stop_stub
    R[leak.stub]=$stub_counters
    R[leak.stub_open]=$(field open " $stub_counters")
    R[leak.stub_requests]=$(field requests " $stub_counters")
    echo "   stub: $stub_counters"
    stop_server
    # The database's account: one ended attempt per task, none left open.
    R[leak.db]=$(db_query "SELECT (SELECT count(*) FROM submissions WHERE state = 'timed_out') || ' timed_out rows, ' ||
        (SELECT count(*) FROM attempts) || ' attempts, ' || (SELECT count(*) FROM attempts WHERE outcome IS NULL) || ' without an outcome';")
    echo "   database: ${R[leak.db]}"
    [[ ${R[leak.db]} == "$leak_tasks timed_out rows, $leak_tasks attempts, 0 without an outcome" ]] ||
        fail "leak: the database holds ${R[leak.db]}; expected $leak_tasks of each and 0 open"
}

scenario_ingest() {
    echo "== 2. ingest under load: c=64 for ${load_seconds} s after a ${load_tasks}-submission prefill; report/enabled=false"
    echo "   a) engine/enabled=false"
    new_data_dir
    start_server --set engine/enabled=false --set report/enabled=false || return
    sleep 1
    R[idle.rss0]=$(status_field "$server_pid" VmRSS)
    submit_bounded "$load_tasks"
    sleep 2
    # The control for scenario 1's RSS: the same ingest with no engine at all.
    R[idle.rss1]=$(status_field "$server_pid" VmRSS)
    echo "      RSS idle $(mb "${R[idle.rss0]}") MB, $(mb "${R[idle.rss1]}") MB after $load_tasks submissions (engine off)"
    measure_ingest "$load_seconds"
    R[idle.p99]=$w_p99 R[idle.rps]=$w_rps
    echo "      p99 $w_p99 ms, $w_rps acknowledged/s"
    stop_server

    echo "   b) stub never; analysis/timeoutMs=10000 retry/maxAttempts=1 engine/maxInFlight=256"
    start_stub never || return
    new_data_dir
    start_server --set "analysis/url=http://127.0.0.1:$stub_port/analyse" --set analysis/token=bench \
        --set analysis/timeoutMs=10000 --set retry/maxAttempts=1 --set report/enabled=false \
        --set engine/maxInFlight=256 || return
    submit_bounded "$load_tasks"
    local s0 s1 t0
    s0=$(stats)
    cpu_snapshot "$server_pid" >"$work/load.cpu0"
    t0=$(now)
    measure_ingest "$load_seconds"
    cpu_snapshot "$server_pid" >"$work/load.cpu1"
    s1=$(stats)
    R[load.p99]=$w_p99 R[load.rps]=$w_rps
    R[load.cpu]=$(cpu_report "$work/load.cpu0" "$work/load.cpu1" "$(elapsed "$t0" "$(now)")")
    R[load.backlog]="$(jget "$s0" engine attemptsInFlight) in flight + $(jget "$s0" submissions pending) pending before, $(jget "$s1" engine attemptsInFlight) + $(jget "$s1" submissions pending) after"
    echo "      p99 $w_p99 ms, $w_rps acknowledged/s; tasks: ${R[load.backlog]}"
    echo "      server CPU: ${R[load.cpu]}"
    R[load.ratio]=$(calc "printf \"%.2f\", ${R[load.p99]} / ${R[idle.p99]}")
    stop_stub
    stop_server
}

throughput_run() { # key count report(true|false) analysis(stub|none)
    local key=$1 count=$2 report=$3 analysis=(--set "analysis/url=http://127.0.0.1:$stub_port/analyse")
    [[ $4 == stub ]] || analysis=(--set analysis/url=)
    echo "   report/enabled=$report, analysis: $4: $count tasks"
    new_data_dir
    start_server --set engine/enabled=false || return
    submit_bounded "$count"
    stop_server
    # Restarted on the same data: the backlog is processed with no ingest competing for the CPU.
    local t0
    t0=$(now)
    start_server "${analysis[@]}" --set analysis/token=bench --set "report/enabled=$report" || return
    local t_listen
    t_listen=$(now)
    cpu_snapshot "$server_pid" >"$work/$key.cpu0"
    wait_settled "$count" 240 0.2 || true
    cpu_snapshot "$server_pid" >"$work/$key.cpu1"
    local s secs
    s=$(stats)
    secs=$(elapsed "$t_listen" "$settle_t")
    R[$key.secs]=$secs
    R[$key.processed]=$(jget "$s" submissions processed)
    R[$key.tps]=$(calc "printf \"%.0f\", ${R[$key.processed]} / $secs")
    R[$key.cpu]=$(cpu_report "$work/$key.cpu0" "$work/$key.cpu1" "$secs")
    [[ ${R[$key.processed]} -eq $count ]] || fail "$key: ${R[$key.processed]} of $count processed ($(grep -o '"submissions":{[^}]*}' <<<"$s"))"
    echo "      ${R[$key.processed]} processed in $secs s after the server listened (start-up $(elapsed "$t0" "$t_listen") s) = ${R[$key.tps]} tasks/s"
    echo "      server CPU: ${R[$key.cpu]}"
    stop_server
    local reports
    reports=$(db_query "SELECT count(*) FROM submissions WHERE state = 'processed' AND report_path IS NOT NULL;")
    if [[ $report == true ]]; then
        [[ $reports -eq $count ]] || fail "$key: $reports of $count processed rows name a report"
    fi
}

scenario_throughput() {
    echo "== 3. throughput: stub fast; backlog submitted with engine/enabled=false, processed after a restart"
    start_stub fast || return
    throughput_run nopdf "$fast_tasks" false stub
    throughput_run pdf "$pdf_tasks" true stub
    # A diagnostic: the same backlog without the HTTP call, to separate the store's and the
    # network's share of the cost of a task.
    throughput_run nonet "$fast_tasks" false none
    stop_stub
    R[fast.stub]=$stub_counters
    echo "   stub: $stub_counters"
}

scenario_slow() {
    echo "== 4. diagnostic, slow service: stub slow (answers after ${slow_delay} ms); analysis/timeoutMs=2000 retry/maxAttempts=1 report/enabled=false engine/maxInFlight=256"
    start_stub slow "$slow_delay" || return
    new_data_dir
    start_server --set "analysis/url=http://127.0.0.1:$stub_port/analyse" --set analysis/token=bench \
        --set analysis/timeoutMs=2000 --set retry/maxAttempts=1 --set report/enabled=false \
        --set engine/maxInFlight=256 || return
    local t0 s
    t0=$(now)
    submit_bounded "$slow_tasks"
    wait_settled "$slow_tasks" 120 0.5 || true
    s=$(stats)
    R[slow.secs]=$(elapsed "$t0" "$settle_t")
    R[slow.processed]=$(jget "$s" submissions processed)
    R[slow.timed_out]=$(jget "$s" submissions timed_out)
    stop_stub
    R[slow.stub_requests]=$(field requests " $stub_counters")
    R[slow.stub_answered]=$(field answered " $stub_counters")
    echo "   settled after ${R[slow.secs]} s: ${R[slow.processed]} processed, ${R[slow.timed_out]} timed_out; stub: $stub_counters"
    stop_server
}

for scenario in $scenarios; do
    case $scenario in
    leak) scenario_leak ;;
    ingest) scenario_ingest ;;
    throughput) scenario_throughput ;;
    slow) scenario_slow ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
    echo
done

echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end; $load_start at start"
echo
v() { verdict "$(calc "print ($1)")"; }
echo "| scenario | figure | value | target | verdict |"
echo "|---|---|---:|---|---|"
if [[ -n ${R[leak.settle_s]:-} ]]; then
    handful=4
    echo "| 1 leak ($leak_tasks, stub never, 2 s timeout) | time until all settled (timed_out ${R[leak.timed_out]}) | ${R[leak.settle_s]} s | theory $leak_tasks/256 × 2 s ≈ ${R[leak.theory]} s | $(calc "printf \"%.2f\", ${R[leak.settle_s]} / ${R[leak.theory]}")× theory |"
    echo "| | submissions accepted in | ${R[leak.ingest_s]} s | | |"
    echo "| | threads idle → peak → after | ${R[leak.thr0]} → ${R[leak.peak_thr]} → ${R[leak.thr1]} | ≤ idle + pool (${R[leak.pool]}) + $handful = $((${R[leak.thr0]} + ${R[leak.pool]} + handful)) | $(v "${R[leak.peak_thr]} <= ${R[leak.thr0]} + ${R[leak.pool]} + $handful") |"
    echo "| | RSS idle → peak → after (MB) | ${R[leak.rss0]} → ${R[leak.peak_rss]} → ${R[leak.rss1]} | after ≤ 1.10 × idle | ${R[leak.rss_ratio]}× — $(v "${R[leak.rss_ratio]} <= 1.10") |"
    echo "| | engine.attemptsInFlight / openRequests after | ${R[leak.inflight]} / ${R[leak.open]} | 0 / 0 | $(v "${R[leak.inflight]} == 0 && ${R[leak.open]} == 0") |"
    echo "| | RSS control: engine off, idle → after $load_tasks ingests (MB) | $(mb "${R[idle.rss0]:-0}") → $(mb "${R[idle.rss1]:-0}") | | $(calc "printf \"%.2f\", ${R[idle.rss1]:-0} / ${R[idle.rss0]:-1}")× from ingest alone |"
    echo "| | server→stub connections 2 s after settling (of them with request bytes) | ${R[leak.ss_client]} (${R[leak.ss_data]}) | 0 | $(v "${R[leak.ss_client]} == 0") |"
    echo "| | … still open after ${R[leak.linger]} s more; stub's open count at its stop | ${R[leak.linger_left]}; ${R[leak.stub_open]} (requests received ${R[leak.stub_requests]}) | 0 | $(v "${R[leak.stub_open]} == 0") |"
fi
if [[ -n ${R[load.ratio]:-} ]]; then
    echo "| 2 ingest, c=64, ${load_seconds} s | ack p99 engine off | ${R[idle.p99]} ms (${R[idle.rps]}/s) | | |"
    echo "| | ack p99 with $load_tasks slow tasks queued/running | ${R[load.p99]} ms (${R[load.rps]}/s) | | |"
    echo "| | ratio loaded / idle | ${R[load.ratio]}× | ≤ 1.5× | $(v "${R[load.ratio]} <= 1.5") |"
fi
if [[ -n ${R[nopdf.tps]:-} ]]; then
    echo "| 3 throughput, stub fast | PDF off: $fast_tasks tasks | ${R[nopdf.tps]} tasks/s (${R[nopdf.secs]} s) | | |"
fi
if [[ -n ${R[pdf.tps]:-} ]]; then
    echo "| | PDF on: $pdf_tasks tasks | ${R[pdf.tps]} tasks/s (${R[pdf.secs]} s) | | |"
fi
if [[ -n ${R[nonet.tps]:-} ]]; then
    echo "| | diagnostic: PDF off, no analysis call: $fast_tasks tasks | ${R[nonet.tps]} tasks/s (${R[nonet.secs]} s) | | |"
fi
if [[ -n ${R[nopdf.tps]:-} && -n ${R[idle.rps]:-} ]]; then
    echo "| | PDF off vs ingest rate (2, engine off) | $(calc "printf \"%.2f\", ${R[nopdf.tps]} / ${R[idle.rps]}")× (${R[nopdf.tps]} vs ${R[idle.rps]}/s) | ≥ 1× (engine not the bottleneck) | $(v "${R[nopdf.tps]} >= ${R[idle.rps]}") |"
fi
if [[ -n ${R[slow.secs]:-} ]]; then
    echo "| 4 diagnostic: service answers in ${slow_delay} ms, timeout 2000 ms | $slow_tasks tasks: processed / timed_out | ${R[slow.processed]} / ${R[slow.timed_out]} (${R[slow.secs]} s) | (no target; a timeout 4× the service time) | |"
    echo "| | requests that reached the stub / answered | ${R[slow.stub_requests]} / ${R[slow.stub_answered]} | | |"
fi

report_failures
echo
echo "All runs clean: every submission was answered 202 and every scenario settled."
