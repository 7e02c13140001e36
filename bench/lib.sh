# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (bench/*/run.sh). Source it, do not run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# Sets bench_dir and repo (absolute). Everything else is functions; the scripts keep their own
# set -euo pipefail, traps and work folders. Functions that report a failure append to the array
# `failures` (fail) and let the script go on, so that one bad point does not hide the others;
# report_failures at the end turns them into exit status 1.

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)

# --- failures ------------------------------------------------------------------------------------------
failures=()
fail() {
    failures+=("$*")
    echo "!! FAIL: $*" >&2
}

report_failures() { # -> exits 1 after listing them if there were any
    if ((${#failures[@]} > 0)); then
        echo
        echo "!! ${#failures[@]} FAILURE(S):"
        printf '!!   %s\n' "${failures[@]}"
        exit 1
    fi
}

verdict() { if [[ $1 == 1 ]]; then echo "met"; else echo "NOT met"; fi; }

# --- tools and binaries --------------------------------------------------------------------------------
as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

ensure_tool() { # command, Debian package
    if command -v "$1" >/dev/null 2>&1; then return; fi
    echo "== installing $2"
    as_root apt-get install -y "$2" >/dev/null || {
        as_root apt-get update >/dev/null
        as_root apt-get install -y "$2" >/dev/null
    }
}

resolve_build_dir() { # BUILD_DIR argument or "" -> absolute path (default build-bench, relative to the repository)
    local dir=${1:-build-bench}
    [[ $dir = /* ]] || dir="$repo/$dir"
    echo "$dir"
}

ensure_built() { # build-dir target... : configures (Release) and builds the targets whose binary is missing
    local dir=$1 target path missing=()
    shift
    for target in "$@"; do
        case $target in
        siterelay) path="$dir/app/siterelay" ;;
        siterelay_stub_analysis) path="$dir/bench/siterelay_stub_analysis" ;;
        *) echo "ensure_built: unknown target $target" >&2; return 2 ;;
        esac
        [[ -x $path ]] || missing+=("$target")
    done
    ((${#missing[@]} > 0)) || return 0
    echo "== building ${missing[*]} in $dir (Release)"
    cmake -S "$repo" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSITERELAY_BUILD_BENCH=ON >/dev/null
    cmake --build "$dir" --target "${missing[@]}"
}

private_runtime_dir() { # dir: the servers' QGuiApplication/QStandardPaths warn at start without one
    export XDG_RUNTIME_DIR="$1"
    mkdir -m 700 "$XDG_RUNTIME_DIR"
}

# --- numbers ---------------------------------------------------------------------------------------------
calc() { awk "BEGIN { $1 }"; }
mb() { calc "printf \"%.1f\", $1 / 1024"; } # kB -> MB with one decimal

field() { # name line -> the value of " name=value" in a RESULT line
    local value=${2##* "$1"=}
    echo "${value%% *}"
}

machine_summary() { # "N cores, CPU model, RAM"
    echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -h | awk '/^Mem:/ { print $2 }') RAM"
}

# --- /proc ------------------------------------------------------------------------------------------------
status_field() { # pid field -> value from /proc/PID/status (kB for VmRSS), 0 if the process is gone
    awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status" 2>/dev/null || echo 0
}

process_ticks() { # pid -> utime+stime of the whole process
    local stat f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
    stat=${stat##*) } # fields after "(comm) ": state is field 3, utime 14, stime 15
    read -r -a f <<<"$stat"
    echo $((f[11] + f[12]))
}

thread_ticks() { # pid -> lines "tid comm ticks run_delay_ns" per thread (utime+stime; schedstat run_delay)
    local task tid comm stat sched f d
    for task in /proc/"$1"/task/*; do
        tid=${task##*/}
        # A thread may end between the glob and the reads. read, not $(<file): with set -e, bash 5.2
        # exits when $(<file) cannot open the file, whatever follows the ||.
        { read -r comm <"$task/comm"; } 2>/dev/null || continue
        { read -r stat <"$task/stat"; } 2>/dev/null || continue
        { read -r sched <"$task/schedstat"; } 2>/dev/null || sched="0 0 0"
        stat=${stat##*) }
        read -r -a f <<<"$stat"
        read -r -a d <<<"$sched"
        echo "$tid ${comm// /_} $((f[11] + f[12])) ${d[1]}"
    done
}

machine_busy_ticks() { # all CPUs, all processes: user+nice+system+irq+softirq+steal ticks
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# RSS / thread sampler: in the background, every INTERVAL seconds, writes "peak-VmRSS-kB most-threads"
# seen so far to OUT-FILE (atomically, so it can be read at any time) until the process ends or
# stop_sampler. One sampler at a time (sampler_pid; a script's cleanup trap should kill it).
sampler_pid=""
start_sampler() { # pid out-file interval-seconds
    (
        peak=0 threads=0
        while [[ -r /proc/$1/status ]]; do
            while read -r key value _; do
                case $key in
                VmRSS:) if ((value > peak)); then peak=$value; fi ;;
                Threads:) if ((value > threads)); then threads=$value; fi ;;
                esac
            done <"/proc/$1/status" 2>/dev/null || true
            echo "$peak $threads" >"$2.tmp" && mv "$2.tmp" "$2"
            sleep "$3"
        done
    ) &
    sampler_pid=$!
}

stop_sampler() {
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
}

# --- server processes ---------------------------------------------------------------------------------
# Waits for a "... listening on http://ADDR:PORT" line (siterelay and siterelay_stub_analysis both
# print one) in LOG and prints PORT. Status 1 if PID exited first, 2 if SECONDS passed.
wait_for_port() { # log pid seconds poll-interval
    local log=$1 pid=$2 deadline=$((SECONDS + $3)) port
    while :; do
        port=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$log" 2>/dev/null | head -n 1)
        if [[ -n $port ]]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        ((SECONDS < deadline)) || return 2
        sleep "$4"
    done
}

# Stops a server with SIGTERM as a user would and checks it went cleanly: fails if it had died
# already, did not stop within SECONDS (then SIGKILL), or exited non-zero; then summarises the
# warning/error lines of its log. PREFIX starts the failure messages, LABEL the log summary.
stop_server_pid() { # pid seconds stderr-log prefix label
    local pid=$1 secs=$2 log=$3 prefix=$4 label=$5
    if ! kill -0 "$pid" 2>/dev/null; then
        fail "${prefix}server (pid $pid) had died: $(tail -n 5 "$log")"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "${prefix}server did not stop within $secs s of SIGTERM; killed"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    local status=0
    wait "$pid" 2>/dev/null || status=$?
    ((status == 0)) || fail "${prefix}server exited with status $status after SIGTERM"
    local warnings
    warnings=$(grep -cE '^[0-9T:.-]+ [WEC] ' "$log" || true)
    if ((warnings > 0)); then
        echo "   ${label}server log: $warnings warning/error lines, most frequent:"
        grep -E '^[0-9T:.-]+ [WEC] ' "$log" | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -n 3 | sed 's/^/     /'
    fi
}
