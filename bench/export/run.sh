#!/usr/bin/env bash
# Export benchmark: `siterelay export` of N processed submissions (default 100,000) on a real
# SiteRelay database; prints elapsed seconds, peak RSS and the files' sizes.
#
#   bench/export/run.sh [BUILD_DIR] [N]     (BUILD_DIR default: build-bench, relative to the repository)
#
# How the database is filled (fast, and with real rows):
#   1. seed: a real server (--headless --port 0, report/enabled=false, engine on) takes one PHQ-9
#      and one GAD-7 submission per answer level over HTTP and processes them, so answers, score
#      JSON, bands and alerts are exactly what the engine stores; then it stops (SIGTERM).
#   2. multiply: one SQL statement (sqlite3) copies the seed rows to N rows in all, in one transaction, each
#      with a new submission id, patient (5,000 patients), trial (3 trials) and completion time;
#      state 'processed', not yet in a batch. The triggers keep state_counts right.
# Then `/usr/bin/time -v siterelay export --site BENCH` runs on it (a cold process: the figure
# includes opening the database), the same again with --batch (a re-export of the same rows, which
# must give byte-identical files), and `--batch ID --upload` to a local REDCap-like stub (python3
# http.server: checks the form fields, answers the ids it got) with upload/maxRecords=500 (UPLOAD=0
# skips it). The upload run rewrites the files first, as every --batch run does. Needs sqlite3, curl and /usr/bin/time (GNU time): installed
# with apt-get if missing. Configures and builds the Release siterelay target if BUILD_DIR lacks it.
# Exit status 0 if the runs completed (a missed target is reported, not failed), 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
source "$here/../lib.sh"
build_dir=$(resolve_build_dir "${1:-}")
rows=${2:-100000}
binary="$build_dir/app/siterelay"
rss_target_kb=$((100 * 1024))

ensure_tool sqlite3 sqlite3
ensure_tool curl curl
[[ -x /usr/bin/time ]] || ensure_tool /usr/bin/time time

ensure_built "$build_dir" siterelay

work=$(mktemp -d "${TMPDIR:-/tmp}/siterelay-export-bench.XXXXXX")
data="$work/data"
mkdir -p "$data"
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
private_runtime_dir "$work/runtime"
db="$data/siterelay.sqlite"

echo "== seeding real processed rows through the server"
token=$("$binary" device add bench --data-dir "$data" | tail -1)
"$binary" --headless --bind 127.0.0.1 --port 0 --data-dir "$data" --set report/enabled=false \
    >"$work/server.log" 2>&1 &
server_pid=$!
port=$(wait_for_port "$work/server.log" "$server_pid" 10 0.05) || { cat "$work/server.log"; echo "!! the server did not start"; exit 1; }
seeds=0
for level in 0 1 2 3; do
    for q in phq9 gad7; do
        n=$([[ $q = phq9 ]] && echo 9 || echo 7)
        answers=$(for i in $(seq 1 "$n"); do printf '"%s_q%d":%d,' "$q" "$i" "$level"; done)
        body=$(printf '{"submissionId":"%s","patientId":"P-SEED","trialId":"TRIAL-0","questionnaireId":"%s",'\
'"completedAt":"2026-01-01T08:00:00Z","answers":{%s}}' "$(cat /proc/sys/kernel/random/uuid)" "$q" "${answers%,}")
        status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/submissions" \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data "$body")
        [[ $status = 202 ]] || { echo "!! seed submission answered $status"; exit 1; }
        seeds=$((seeds + 1))
    done
done
for _ in $(seq 600); do
    done_rows=$(sqlite3 "$db" "SELECT COUNT(*) FROM submissions WHERE state = 'processed'")
    [[ $done_rows -eq $seeds ]] && break
    sleep 0.1
done
[[ $done_rows -eq $seeds ]] || { echo "!! the seed was not processed ($done_rows of $seeds)"; exit 1; }
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""

echo "== multiplying to $rows rows (one SQL statement)"
fill_start=${EPOCHREALTIME/,/.}
sqlite3 "$db" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
CREATE TEMP TABLE seed AS
    SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM submissions WHERE state = 'processed';
-- The seed rows stay (attempts and alerts refer to them): N in all.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $rows - $seeds - 1)
INSERT INTO submissions (submission_id, device_id, source, patient_id, trial_id, questionnaire_id, completed_at,
                         answers, content_hash, state, received_at, updated_at, attempt_count, score_total,
                         score_band, score, processed_at)
SELECT lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                    substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
       s.device_id, s.source, printf('P-%05d', n.i % 5000), printf('TRIAL-%d', n.i % 3), s.questionnaire_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', printf('+%d seconds', n.i * 60)),
       s.answers, randomblob(32), 'processed',
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', printf('+%d seconds', n.i * 60 + 5)),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', printf('+%d seconds', n.i * 60 + 6)),
       1, s.score_total, s.score_band, s.score,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', printf('+%d seconds', n.i * 60 + 6))
FROM n JOIN seed s ON s.k = n.i % $seeds;
COMMIT;
SQL
fill_end=${EPOCHREALTIME/,/.}
count=$(sqlite3 "$db" "SELECT COUNT(*) FROM submissions WHERE state = 'processed' AND export_batch_id IS NULL")
echo "   $count processed rows in $(awk -v a="$fill_start" -v b="$fill_end" 'BEGIN { printf "%.1f", b - a }') s;" \
    "database $(du -h "$db" | cut -f1)"

run_export() { # label, arguments...
    local label=$1
    shift
    /usr/bin/time -v "$binary" export --data-dir "$data" "$@" >"$work/out.txt" 2>"$work/err.txt" || {
        tail -20 "$work/err.txt"
        echo "!! export failed"
        exit 1
    }
    local wall rss
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/err.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/err.txt")
    local seconds
    seconds=$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i];
                                        printf "%.2f", s }')
    local verdict="under"
    ((rss < rss_target_kb)) || verdict="OVER"
    echo "== $label: ${seconds} s elapsed, peak RSS $((rss / 1024)) MB ($verdict the 100 MB target)," \
        "user $(sed -n 's/.*User time (seconds): //p' "$work/err.txt") s," \
        "system $(sed -n 's/.*System time (seconds): //p' "$work/err.txt") s"
}

run_export "export of $count submissions (new batch)" --site BENCH
batch=$(sed -n 's/^batch: //p' "$work/out.txt")
folder=$(sed -n 's/^folder: //p' "$work/out.txt")
echo "   files:"
for f in clinical.odm.xml submissions.csv manifest.json; do
    printf '     %-18s %12d bytes (%s)\n' "$f" "$(stat -c %s "$folder/$f")" "$(du -h "$folder/$f" | cut -f1)"
done
sums_before=$(cd "$folder" && sha256sum clinical.odm.xml submissions.csv manifest.json)

run_export "re-export of batch $batch" --batch "$batch"
sums_after=$(cd "$folder" && sha256sum clinical.odm.xml submissions.csv manifest.json)
if [[ $sums_before == "$sums_after" ]]; then
    echo "   re-export: byte-identical files"
else
    echo "!! re-export changed the files"
    exit 1
fi

[[ ${UPLOAD:-1} = 1 ]] || exit 0
echo "== REDCap upload of batch $batch to a local stub (upload/maxRecords=500)"
cat >"$work/stub.py" <<'PY'
import http.server, json, sys, urllib.parse
class Handler(http.server.BaseHTTPRequestHandler):
    records = 0
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        fixed = {'content': 'record', 'format': 'json', 'type': 'flat', 'overwriteBehavior': 'normal',
                 'returnContent': 'ids', 'returnFormat': 'json', 'token': 'BENCH-TOKEN'}
        if any(form.get(k, [''])[0] != v for k, v in fixed.items()):
            self.send_response(400); self.end_headers(); return
        ids = [r['record_id'] for r in json.loads(form['data'][0])]
        Handler.records += len(ids)
        answer = json.dumps(ids).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        with open(sys.argv[1] + '.records', 'w') as f:
            f.write(str(Handler.records))
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
with open(sys.argv[1], 'w') as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
PY
echo BENCH-TOKEN >"$work/token"
python3 "$work/stub.py" "$work/stub.port" &
stub_pid=$!
trap 'kill "$stub_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [[ -s $work/stub.port ]] && break; sleep 0.05; done
stub_port=$(cat "$work/stub.port")
run_export "re-export and upload of batch $batch" --batch "$batch" --upload --set upload/kind=redcap \
    --set "upload/url=http://127.0.0.1:$stub_port/api/" --set "upload/tokenFile=$work/token" \
    --set upload/maxRecords=500
echo "   $(grep '^upload:' "$work/out.txt"); the stub counted $(cat "$work/stub.port.records") records"

