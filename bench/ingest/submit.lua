-- wrk 4.1 script: POST /api/v1/submissions with a unique, valid PHQ-9 submission per request.
--
--   wrk -t1 -c64 -d10s --latency -s submit.lua http://127.0.0.1:PORT/api/v1/submissions -- TOKEN RUNTAG
--
-- TOKEN is a device token (siterelay device add). RUNTAG (0..4095) must differ between wrk runs
-- against the same database, so that no two requests of a scenario ever share a submissionId: a
-- resent id would be answered 200 (idempotent replay) instead of 202 and not add a row.
-- done() prints one "RESULT key=value ..." line that run.sh parses; only 202s count as acknowledged.
-- If BENCH_ACKED_IDS names a file, done() writes the submissionId of every 202 to it, one a line,
-- so that run.sh can check each acknowledged submission against the database.

local threads = {}
local nextThreadId = 1

-- Runs in the main Lua state once per wrk thread, before init() runs in that thread's own state.
function setup(thread)
    thread:set("threadId", nextThreadId)
    nextThreadId = nextThreadId + 1
    table.insert(threads, thread)
end

local token, runTag, counter
local headers
-- Globals, because done() reads them from each thread's Lua state with thread:get().
statuses = {}  -- status code -> count
sent = 0       -- request() calls: requests put on the wire, answered or not
ackedIds = {}  -- submissionId of every 202 that carried one (the echo route answers without it)

function init(args)
    token = args[1] or error("submit.lua: pass the device token after --")
    runTag = tonumber(args[2] or "0") % 4096
    counter = 0
    -- Seeded per thread: without this every wrk thread would draw the same "random" sequence.
    math.randomseed(os.time() * 1000 + threadId * 7919 + runTag * 104729)
    headers = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
    }
end

-- A version-4/variant-1 UUID whose bits are random except for a counter, the thread id and the run
-- tag: those make ids unique by construction across requests, wrk threads and runs, where random
-- bits alone (math.random has 31 bits of state per call) would only make collisions unlikely.
local function uuid()
    counter = counter + 1
    return string.format("%08x-%04x-4%03x-%x%03x-%06x%06x",
        counter % 0x100000000, threadId % 0x10000, runTag,
        8 + math.random(0, 3), math.random(0, 0xfff),
        math.random(0, 0xffffff), math.random(0, 0xffffff))
end

local bodyFormat = '{"submissionId":"%s","patientId":"BENCH-%04d","trialId":"TRIAL-BENCH",'
    .. '"questionnaireId":"phq9","completedAt":"2024-05-01T09:30:00+02:00","answers":{'
    .. '"phq9_q1":%d,"phq9_q2":%d,"phq9_q3":%d,"phq9_q4":%d,"phq9_q5":%d,'
    .. '"phq9_q6":%d,"phq9_q7":%d,"phq9_q8":%d,"phq9_q9":%d}}'

function request()
    sent = sent + 1
    local r = math.random
    local body = string.format(bodyFormat, uuid(), r(0, 9999),
        r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3))
    return wrk.format("POST", nil, headers, body)
end

function response(status, hdrs, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 202 then
        local id = body:match('"submissionId":"([^"]+)"')
        if id then
            ackedIds[#ackedIds + 1] = id
        end
    end
end

function done(summary, latency, requests)
    local byStatus = {}
    local sentTotal = 0
    local idsPath = os.getenv("BENCH_ACKED_IDS")
    local idsFile = idsPath and idsPath ~= "" and assert(io.open(idsPath, "w")) or nil
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses") or {}) do
            byStatus[status] = (byStatus[status] or 0) + n
        end
        sentTotal = sentTotal + (thread:get("sent") or 0)
        if idsFile then
            for _, id in ipairs(thread:get("ackedIds") or {}) do
                idsFile:write(id, "\n")
            end
        end
    end
    if idsFile then
        idsFile:close()
    end
    local acked, other2xx, non2xx = 0, 0, 0
    local list = {}
    for status, n in pairs(byStatus) do
        if status == 202 then
            acked = acked + n
        elseif status >= 200 and status < 300 then
            other2xx = other2xx + n
        else
            non2xx = non2xx + n
        end
        table.insert(list, string.format("%d:%d", status, n))
    end
    table.sort(list)
    local e = summary.errors
    io.write(string.format(
        "RESULT sent=%d responses=%d acked=%d other2xx=%d non2xx=%d statuses=%s durationUs=%d "
            .. "p50Us=%d p90Us=%d p99Us=%d maxUs=%d "
            .. "connectErr=%d readErr=%d writeErr=%d timeoutErr=%d\n",
        sentTotal, summary.requests, acked, other2xx, non2xx, (#list > 0 and table.concat(list, ",") or "none"),
        summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, e.connect, e.read, e.write, e.timeout))
end
