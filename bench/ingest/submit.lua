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
-- Ids and bodies come from bench/submission.lua, shared with bench/engine/submit.lua.

local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../submission.lua")

setup = lib.setup

local headers
-- Globals, because done() reads them from each thread's Lua state with thread:get().
statuses = {}  -- status code -> count
sent = 0       -- request() calls: requests put on the wire, answered or not
ackedIds = {}  -- submissionId of every 202 that carried one (the echo route answers without it)

function init(args)
    local token = args[1] or error("submit.lua: pass the device token after --")
    lib.init(tonumber(args[2] or "0"))
    headers = {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
    }
end

function request()
    sent = sent + 1
    return wrk.format("POST", nil, headers, lib.body())
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
    local idsPath = os.getenv("BENCH_ACKED_IDS")
    if idsPath and idsPath ~= "" then
        local idsFile = assert(io.open(idsPath, "w"))
        for _, thread in ipairs(lib.threads()) do
            for _, id in ipairs(thread:get("ackedIds") or {}) do
                idsFile:write(id, "\n")
            end
        end
        idsFile:close()
    end
    local byStatus, list = lib.mergedStatuses("statuses")
    local acked, other2xx, non2xx = 0, 0, 0
    for status, n in pairs(byStatus) do
        if status == 202 then
            acked = acked + n
        elseif status >= 200 and status < 300 then
            other2xx = other2xx + n
        else
            non2xx = non2xx + n
        end
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT sent=%d responses=%d acked=%d other2xx=%d non2xx=%d statuses=%s durationUs=%d "
            .. "p50Us=%d p90Us=%d p99Us=%d maxUs=%d "
            .. "connectErr=%d readErr=%d writeErr=%d timeoutErr=%d\n",
        lib.sum("sent"), summary.requests, acked, other2xx, non2xx, list,
        summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, e.connect, e.read, e.write, e.timeout))
end
