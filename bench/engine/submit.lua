-- wrk 4.1 script for the engine benchmark: POST /api/v1/submissions with a unique, valid PHQ-9
-- submission per request, optionally no more than LIMIT of them.
--
--   wrk -t1 -c64 -d120s --latency -s submit.lua http://127.0.0.1:PORT/api/v1/submissions -- TOKEN RUNTAG [LIMIT]
--
-- TOKEN is a device token (siterelay device add). RUNTAG (0..4095) must differ between wrk runs
-- against the same database: a resent id would be answered 200 (replay) and create no task.
-- LIMIT (default 0 = unbounded) caps the POSTs this wrk thread issues. wrk cannot stop on its own
-- before its -d duration (its main thread sleeps through it), and request() must always return a
-- request: past the limit it sends GET /api/v1/questionnaires, which reads nothing from the store
-- and creates no task, and run.sh ends wrk with SIGINT once the server has accepted LIMIT
-- submissions. Use -t1 with LIMIT so that the count is exact.
-- done() prints one "RESULT key=value ..." line; only 202s count as acknowledged.

local threads = {}
local nextThreadId = 1

-- Runs in the main Lua state once per wrk thread, before init() runs in that thread's own state.
function setup(thread)
    thread:set("threadId", nextThreadId)
    nextThreadId = nextThreadId + 1
    table.insert(threads, thread)
end

local token, runTag, limit, counter
local postHeaders, getHeaders
-- Globals, because done() reads them from each thread's Lua state with thread:get().
statuses = {} -- status code -> count (POSTs only)
posts = 0     -- POSTs put on the wire, answered or not
fillers = 0   -- GETs sent after the limit

function init(args)
    token = args[1] or error("submit.lua: pass the device token after --")
    runTag = tonumber(args[2] or "0") % 4096
    limit = tonumber(args[3] or "0")
    -- wrk calls request() once in the first thread's state right after init(), only to check the
    -- script; that request is never sent, so it must not count against the limit.
    if limit > 0 and threadId == 1 then
        limit = limit + 1
    end
    counter = 0
    -- Seeded per thread: without this every wrk thread would draw the same "random" sequence.
    math.randomseed(os.time() * 1000 + threadId * 7919 + runTag * 104729)
    postHeaders = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
    }
    getHeaders = { ["Authorization"] = "Bearer " .. token }
end

-- A version-4/variant-1 UUID made unique by construction (counter, thread id, run tag) rather than
-- by chance: math.random has too few bits per call to make collisions negligible at this rate.
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
    if limit > 0 and posts >= limit then
        fillers = fillers + 1
        return wrk.format("GET", "/api/v1/questionnaires", getHeaders, nil)
    end
    posts = posts + 1 -- includes wrk's unsent check request in the first thread
    local r = math.random
    local body = string.format(bodyFormat, uuid(), r(0, 9999),
        r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3))
    return wrk.format("POST", nil, postHeaders, body)
end

function response(status, hdrs, body)
    -- A new id is answered 202 or an error, never 200; a 200 is a filler GET.
    if status ~= 200 then
        statuses[status] = (statuses[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local byStatus = {}
    local postTotal, fillerTotal = 0, 0
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses") or {}) do
            byStatus[status] = (byStatus[status] or 0) + n
        end
        postTotal = postTotal + (thread:get("posts") or 0)
        fillerTotal = fillerTotal + (thread:get("fillers") or 0)
    end
    local acked, other = 0, 0
    local list = {}
    for status, n in pairs(byStatus) do
        if status == 202 then
            acked = acked + n
        else
            other = other + n
        end
        table.insert(list, string.format("%d:%d", status, n))
    end
    table.sort(list)
    local e = summary.errors
    io.write(string.format(
        "RESULT posts=%d fillers=%d responses=%d acked=%d other=%d statuses=%s durationUs=%d "
            .. "p50Us=%d p99Us=%d maxUs=%d connectErr=%d readErr=%d writeErr=%d timeoutErr=%d\n",
        postTotal, fillerTotal, summary.requests, acked, other, (#list > 0 and table.concat(list, ",") or "none"),
        summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.timeout))
end
