#!/usr/bin/env bash
# Ingest benchmark: acknowledged submissions/s and latency of POST /api/v1/submissions with
# synchronous=FULL and NORMAL, against the HTTP ceiling (POST /bench/echo, no store) in the same run.
#
#   bench/ingest/run.sh [BUILD_DIR]        (default: build-bench, relative to the repository)
#
# Needs wrk and sqlite3 (installed with apt-get if missing). Configures and builds the Release
# siterelay target if BUILD_DIR has no binary. Environment knobs (defaults in brackets):
#   BENCH_DURATION [10]  seconds per measured point     BENCH_WARMUP [2]  seconds of warm-up
#   BENCH_CONNECTIONS ["16 64 256"]                     WRK_THREADS [1]
#   BENCH_SCENARIOS ["echo full normal full-engine"]
#
# Scenarios, each on its own fresh server and database:
#   echo         POST /bench/echo: the same request (headers, token, body size) through the same
#                connection handling, authentication and response path, but no parsing and no store.
#   full/normal  POST /api/v1/submissions, storage/synchronous=FULL/NORMAL, engine/enabled=false, so
#                the ingest path is measured alone.
#   full-engine  FULL with the processing engine on (the default): every stored submission is also
#                validated, scored and gets a PDF, on the same two cores.
# The servers of echo, full and normal start together and stay up; the points are interleaved
# (16 connections on each, then 64 on each, ...) so the ratios of one connection count are measured
# within half a minute of each other, which matters on a machine shared with builds. full-engine gets
# a fresh server per point, stopped afterwards, so its processing backlog never runs beside another
# point.
#
# Exit status: 0 if every run was clean (targets missed are reported, not failed); 1 if any request
# was answered other than 202, a socket error occurred, an acknowledged submission is missing from
# the database, or a server misbehaved (did not start, died, did not stop on SIGTERM).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$here/../lib.sh"
build_dir=$(resolve_build_dir "${1:-}")
binary="$build_dir/app/siterelay"

duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-2}
connections=${BENCH_CONNECTIONS:-16 64 256}
wrk_threads=${WRK_THREADS:-1}
scenarios=${BENCH_SCENARIOS:-echo full normal full-engine}

ensure_tool wrk wrk
ensure_tool sqlite3 sqlite3
ensure_built "$build_dir" siterelay

for scenario in $scenarios; do
    case $scenario in
    echo | full | normal | full-engine) ;;
    *) echo "unknown scenario $scenario (echo, full, normal, full-engine)" >&2; exit 2 ;;
    esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/siterelay-bench.XXXXXX")
declare -A server_pid server_dir server_port server_token
cleanup() {
    if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
    local pid
    for pid in "${server_pid[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${server_pid[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clk_tck=$(getconf CLK_TCK)

# Qt warns once at start without it (QStandardPaths); give the servers their own.
if [[ -z ${XDG_RUNTIME_DIR:-} ]]; then private_runtime_dir "$work/xdg-runtime"; fi

label() {
    case $1 in
    echo) echo "echo (no store)" ;;
    full) echo "store FULL" ;;
    normal) echo "store NORMAL" ;;
    full-engine) echo "store FULL + engine" ;;
    esac
}

# --- CPU accounting ---------------------------------------------------------------------------------
cpu_snapshot() { thread_ticks "$1"; } # pid -> lines "tid comm ticks ..." (utime+stime of every thread)

cpu_report() { # before-file after-file seconds -> "server NN% (thread NN%, ...)", busiest first
    awk -v secs="$3" -v tck="$clk_tck" '
        NR == FNR { before[$1] = $3; next }
        { used = $3 - ($1 in before ? before[$1] : 0); name[$1] = $2; pct[$1] = 100 * used / tck / secs; total += pct[$1] }
        END {
            n = 0; for (t in pct) order[++n] = t
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (pct[order[j]] > pct[order[i]]) { x = order[i]; order[i] = order[j]; order[j] = x }
            line = sprintf("server %.0f%% (", total); sep = ""
            for (i = 1; i <= n; i++) if (pct[order[i]] >= 1) { line = line sep sprintf("%s %.0f%%", name[order[i]], pct[order[i]]); sep = ", " }
            print line ")"
        }' "$1" "$2"
}

# --- server lifecycle ---------------------------------------------------------------------------------
start_server() { # scenario
    local sync=FULL engine=false
    case $1 in
    normal) sync=NORMAL ;;
    full-engine) engine=true ;;
    esac
    local dir
    dir=$(mktemp -d "$work/data.$1.XXXXXX")
    local settings=(--data-dir "$dir" --set bench/noStoreRoute=true --set "storage/synchronous=$sync"
        --set "engine/enabled=$engine")
    # The device must exist before the server starts; the token is the last line printed.
    local token
    token=$("$binary" device add bench-tablet "${settings[@]}" 2>"$dir/device-add.log" | tail -n 1)
    [[ $token =~ ^[A-Za-z0-9_.-]+$ ]] || { fail "$1: device add printed no token: $(tail -n 3 "$dir/device-add.log")"; return 1; }
    "$binary" --headless --bind 127.0.0.1 --port 0 "${settings[@]}" >"$dir/stdout.log" 2>"$dir/stderr.log" &
    local pid=$!
    server_pid[$1]=$pid server_dir[$1]=$dir server_token[$1]=$token
    local port status=0
    port=$(wait_for_port "$dir/stdout.log" "$pid" 30 0.1) || status=$?
    case $status in
    1) fail "$1: server exited at start: $(tail -n 5 "$dir/stderr.log")"; return 1 ;;
    2) fail "$1: server did not print its listening line within 30 s"; return 1 ;;
    esac
    server_port[$1]=$port
    echo "   $(label "$1"): pid $pid, port $port, storage/synchronous=$sync, engine/enabled=$engine"
}

stop_server() { # scenario
    local pid=${server_pid[$1]} dir=${server_dir[$1]}
    unset "server_pid[$1]"
    stop_server_pid "$pid" 15 "$dir/stderr.log" "$1: " "$(label "$1") "
}

rows() { # scenario
    sqlite3 -cmd '.timeout 10000' "${server_dir[$1]}/siterelay.sqlite" 'SELECT count(*) FROM submissions;'
}

# --- one wrk run ----------------------------------------------------------------------------------------
# Sets r_rps r_p50 r_p99 r_rss_mb r_threads r_cpu r_wrk_cpu r_other_cpu r_check.
run_wrk() { # scenario connections seconds run-tag measured(0|1)
    local scenario=$1 conns=$2 secs=$3 tag=$4 measured=$5
    local pid=${server_pid[$scenario]} port=${server_port[$scenario]} token=${server_token[$scenario]}
    local script="$here/submit.lua" url="http://127.0.0.1:$port/api/v1/submissions"
    if [[ $scenario == echo ]]; then
        script="$here/echo.lua" url="http://127.0.0.1:$port/bench/echo"
    fi
    local what
    what="$(label "$scenario") c=$conns"
    if ((!measured)); then what="$what (warm-up)"; fi
    local out="$work/wrk.$scenario.$conns.$tag"
    local rows_before=0
    if [[ $scenario != echo ]]; then rows_before=$(rows "$scenario"); fi
    r_rps=0 r_p50=0 r_p99=0 r_rss_mb=0 r_threads=0 r_cpu="" r_wrk_cpu="" r_other_cpu="" r_check=""

    start_sampler "$pid" "$out.rss" 0.2
    cpu_snapshot "$pid" >"$out.cpu0"
    machine_busy_ticks >"$out.busy0"
    local TIMEFORMAT='%U %S %R'
    { time BENCH_ACKED_IDS="$out.ids" wrk -t"$wrk_threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
        -s "$script" "$url" -- "$token" "$tag" >"$out.txt" 2>&1; } 2>"$out.time" ||
        fail "$what: wrk exited with an error: $(tail -n 3 "$out.txt")"
    cpu_snapshot "$pid" >"$out.cpu1" 2>/dev/null || true
    machine_busy_ticks >"$out.busy1"
    stop_sampler
    kill -0 "$pid" 2>/dev/null || fail "$what: the server died during the run: $(tail -n 5 "${server_dir[$scenario]}/stderr.log")"

    local result
    result=$(grep '^RESULT ' "$out.txt" || true)
    if [[ -z $result ]]; then
        fail "$what: no RESULT line from wrk"
        cat "$out.txt" >&2
        return
    fi
    local sent responses acked other2xx non2xx statuses errors
    sent=$(field sent "$result")
    responses=$(field responses "$result")
    acked=$(field acked "$result")
    other2xx=$(field other2xx "$result")
    non2xx=$(field non2xx "$result")
    statuses=$(field statuses "$result")
    errors=$(($(field connectErr "$result") + $(field readErr "$result") + $(field writeErr "$result") + $(field timeoutErr "$result")))
    ((non2xx == 0)) || fail "$what: $non2xx responses were not 2xx (statuses $statuses)"
    ((other2xx == 0)) || fail "$what: $other2xx 2xx responses were not 202 (statuses $statuses; a 200 means a resent id)"
    ((errors == 0)) || fail "$what: $errors socket errors ($(grep -o 'connectErr.*' <<<"$result"))"
    ((acked > 0)) || fail "$what: nothing was acknowledged"
    r_p50=$(awk -v us="$(field p50Us "$result")" 'BEGIN { printf "%.1f", us / 1000 }')
    r_p99=$(awk -v us="$(field p99Us "$result")" 'BEGIN { printf "%.1f", us / 1000 }')
    r_rps=$(awk -v n="$acked" -v us="$(field durationUs "$result")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
    local rss_kb=0 wu ws wall
    read -r rss_kb r_threads <"$out.rss" || true
    r_rss_mb=$(mb "$rss_kb")
    read -r wu ws wall <"$out.time"
    r_cpu=$(cpu_report "$out.cpu0" "$out.cpu1" "$wall")
    r_wrk_cpu=$(awk -v u="$wu" -v s="$ws" -v w="$wall" 'BEGIN { printf "%.0f%%", 100 * (u + s) / w }')
    # Whatever else ran on the machine meanwhile (other builds, tests): all busy CPU time minus this
    # server's and wrk's. More than a few % means this point was measured on a busy machine.
    r_other_cpu=$(awk -v b0="$(<"$out.busy0")" -v b1="$(<"$out.busy1")" -v tck="$clk_tck" -v w="$wall" \
        -v u="$wu" -v s="$ws" -v server="$(sed -n 's/^server \([0-9]*\)%.*/\1/p' <<<"$r_cpu")" \
        'BEGIN { o = 100 * (b1 - b0) / tck / w - server - 100 * (u + s) / w; printf "%.0f%%", (o < 0 ? 0 : o) }')

    if [[ $scenario == echo ]]; then return; fi
    # Every 202 must be a committed row. wrk stops at its deadline without waiting for the requests
    # still in flight; those may be committed but were never counted, so the new rows are the 202s
    # plus at most (sent - responses) more.
    local rows_after new_rows in_flight found id_count=0 id_found=0
    rows_after=$(rows "$scenario")
    new_rows=$((rows_after - rows_before))
    in_flight=$((sent - responses))
    # A duplicate id would fail the import (PRIMARY KEY): the 202s must all be distinct submissions.
    found=$(sqlite3 -batch -bail "${server_dir[$scenario]}/siterelay.sqlite" <<SQL 2>&1 | tr '|' ' '
.timeout 10000
CREATE TEMP TABLE acked(sid TEXT PRIMARY KEY);
.import '$out.ids' acked
SELECT (SELECT count(*) FROM acked), (SELECT count(*) FROM acked JOIN submissions ON submissions.submission_id = acked.sid);
SQL
    ) || true
    read -r id_count id_found <<<"$found" || true
    if ! [[ $id_count =~ ^[0-9]+$ && $id_found =~ ^[0-9]+$ ]]; then
        fail "$what: checking the acknowledged ids against the database failed: $found"
    elif ((id_count != acked || id_found != acked)); then
        fail "$what: $acked 202s but $id_count distinct ids recorded and $id_found of them in the database"
    elif ((new_rows < acked || new_rows - acked > in_flight)); then
        fail "$what: $new_rows new rows for $acked 202s with $in_flight requests in flight"
    else
        r_check="rows +$new_rows = $acked 202s (all their ids found) + $((new_rows - acked)) committed while in flight at wrk's stop (≤ $in_flight)"
    fi
}

declare -A res_rps res_p50 res_p99 res_rss res_thr res_cpu res_wrk res_other
tag=1
measure() { # scenario connections
    run_wrk "$1" "$2" "$duration" "$tag" 1
    tag=$((tag + 1))
    local key="$1.$2"
    res_rps[$key]=$r_rps res_p50[$key]=$r_p50 res_p99[$key]=$r_p99 res_rss[$key]=$r_rss_mb
    res_thr[$key]=$r_threads res_cpu[$key]=$r_cpu res_wrk[$key]=$r_wrk_cpu res_other[$key]=$r_other_cpu
    printf '   %-20s c=%-4s %6s/s  p50 %6s ms  p99 %6s ms  peak RSS %5s MB  threads %s\n' \
        "$(label "$1")" "$2" "$r_rps" "$r_p50" "$r_p99" "$r_rss_mb" "$r_threads"
    printf '   %-20s CPU (%% of one core): %s; wrk %s; other processes %s\n' "" "$r_cpu" "$r_wrk_cpu" "$r_other_cpu"
    if [[ -n $r_check ]]; then printf '   %-20s check: %s\n' "" "$r_check"; fi
}

warm_up() { # scenario
    run_wrk "$1" 16 "$warmup" "$tag" 0
    tag=$((tag + 1))
}

# --- the run ------------------------------------------------------------------------------------------
echo "SiteRelay ingest benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "binary:   $binary ($("$binary" --version 2>/dev/null | head -n 1 || echo '?'), built $(date -u -r "$binary" '+%Y-%m-%d %H:%M UTC'))"
echo "machine:  $(machine_summary)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
echo "wrk:      $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), -t$wrk_threads, ${duration}s per point, ${warmup}s warm-up per server, --timeout 10s"
echo "NOTE:     wrk runs on the same $(nproc)-core machine as the server and competes with it for CPU;"
echo "          figures are a lower bound for a server with the machine to itself."
echo

echo "== starting servers"
long_lived=()
for scenario in $scenarios; do
    if [[ $scenario == full-engine ]]; then continue; fi
    if start_server "$scenario"; then
        long_lived+=("$scenario")
        warm_up "$scenario"
    fi
done

for c in $connections; do
    echo "== $c connections"
    for scenario in "${long_lived[@]}"; do
        measure "$scenario" "$c"
    done
    if [[ " $scenarios " == *" full-engine "* ]] && start_server full-engine; then
        warm_up full-engine
        measure full-engine "$c"
        stop_server full-engine
    fi
done

echo "== stopping servers"
for scenario in "${long_lived[@]}"; do stop_server "$scenario"; done

echo
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at end"
echo "CPU columns: % of one core over the point (the machine has $(nproc) cores = $(($(nproc) * 100))%); \"other\" is every"
echo "other process on the machine — more than a few % means that point was measured on a busy machine."
echo
echo "| scenario | connections | requests/s (202 only) | p50 ms | p99 ms | peak RSS MB | threads | server CPU | wrk CPU | other CPU |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scenario in $scenarios; do
    for c in $connections; do
        key="$scenario.$c"
        [[ -n ${res_rps[$key]:-} ]] || continue
        echo "| $(label "$scenario") | $c | ${res_rps[$key]} | ${res_p50[$key]} | ${res_p99[$key]} | ${res_rss[$key]} | ${res_thr[$key]} | $(sed -n 's/^server \([0-9]*%\).*/\1/p' <<<"${res_cpu[$key]}") | ${res_wrk[$key]} | ${res_other[$key]} |"
    done
done

ratio() { # scenario scenario connections
    if [[ ${res_rps[$1.$3]:-0} != 0 && ${res_rps[$2.$3]:-0} != 0 ]]; then
        awk -v a="${res_rps[$1.$3]}" -v b="${res_rps[$2.$3]}" 'BEGIN { printf "%.2f", a / b }'
    else
        echo "-"
    fi
}
echo
echo "| connections | FULL / echo | NORMAL / echo | FULL + engine / echo |"
echo "|---:|---:|---:|---:|"
for c in $connections; do
    echo "| $c | $(ratio full echo "$c") | $(ratio normal echo "$c") | $(ratio full-engine echo "$c") |"
done

echo
echo "Targets (issue): with FULL, acknowledged/s >= 40% of the echo ceiling, p99 < 10 ms at 64 connections; RSS < 100 MB"
for c in $connections; do
    r=$(ratio full echo "$c")
    if [[ $r != - ]]; then
        echo "  FULL / echo at $c connections: $r -> $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 0.40) }')")"
    fi
done
if [[ -n ${res_p99[full.64]:-} ]]; then
    echo "  FULL p99 at 64 connections: ${res_p99[full.64]} ms -> $(verdict "$(awk -v p="${res_p99[full.64]}" 'BEGIN { print (p < 10) }')")"
fi
peak=0
for key in "${!res_rss[@]}"; do peak=$(awk -v a="$peak" -v b="${res_rss[$key]}" 'BEGIN { print (b > a ? b : a) }'); done
echo "  peak RSS over all runs: $peak MB -> $(verdict "$(awk -v p="$peak" 'BEGIN { print (p > 0 && p < 100) }')")"

report_failures
echo
echo "All runs clean: every response was 202 and every acknowledged submission is in the database."
