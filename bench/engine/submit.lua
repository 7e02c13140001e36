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
-- Ids and bodies come from bench/submission.lua, shared with bench/ingest/submit.lua.

local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../submission.lua")

setup = lib.setup

local limit
local postHeaders, getHeaders
-- Globals, because done() reads them from each thread's Lua state with thread:get().
statuses = {} -- status code -> count (POSTs only)
posts = 0     -- POSTs put on the wire, answered or not
fillers = 0   -- GETs sent after the limit

function init(args)
    local token = args[1] or error("submit.lua: pass the device token after --")
    limit = tonumber(args[3] or "0")
    -- wrk calls request() once in the first thread's state right after init(), only to check the
    -- script; that request is never sent, so it must not count against the limit.
    if limit > 0 and threadId == 1 then
        limit = limit + 1
    end
    lib.init(tonumber(args[2] or "0"))
    postHeaders = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
    }
    getHeaders = { ["Authorization"] = "Bearer " .. token }
end

function request()
    if limit > 0 and posts >= limit then
        fillers = fillers + 1
        return wrk.format("GET", "/api/v1/questionnaires", getHeaders, nil)
    end
    posts = posts + 1 -- includes wrk's unsent check request in the first thread
    return wrk.format("POST", nil, postHeaders, lib.body())
end

function response(status, hdrs, body)
    -- A new id is answered 202 or an error, never 200; a 200 is a filler GET.
    if status ~= 200 then
        statuses[status] = (statuses[status] or 0) + 1
    end
end

function done(summary, latency, requests)
    local byStatus, list = lib.mergedStatuses("statuses")
    local acked, other = 0, 0
    for status, n in pairs(byStatus) do
        if status == 202 then
            acked = acked + n
        else
            other = other + n
        end
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT posts=%d fillers=%d responses=%d acked=%d other=%d statuses=%s durationUs=%d "
            .. "p50Us=%d p99Us=%d maxUs=%d connectErr=%d readErr=%d writeErr=%d timeoutErr=%d\n",
        lib.sum("posts"), lib.sum("fillers"), summary.requests, acked, other, list,
        summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.timeout))
end
