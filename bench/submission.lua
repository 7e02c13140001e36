-- Shared by the wrk 4.1 scripts bench/ingest/submit.lua and bench/engine/submit.lua: thread
-- registration, unique submission ids and valid PHQ-9 bodies. Each script loads it with dofile and
-- a path taken from its own file name (wrk runs LuaJIT with no package path of its own):
--
--   local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../submission.lua")
--
-- wrk loads the script, and so this file, once in the main Lua state and once in each thread's;
-- nothing here is shared between states except through thread:set()/get().
local M = {}

local threads = {}
local nextThreadId = 1

-- Runs in the main Lua state once per wrk thread, before init() runs in that thread's own state.
function M.setup(thread)
    thread:set("threadId", nextThreadId)
    nextThreadId = nextThreadId + 1
    table.insert(threads, thread)
end

-- The threads registered by setup(), for done() (main state only).
function M.threads()
    return threads
end

local runTag, counter = 0, 0

-- Call from init(): RUNTAG (0..4095) must differ between wrk runs against the same database, so that
-- no two requests ever share a submissionId (a resent id is answered 200, not 202, and adds nothing).
function M.init(tag)
    runTag = tag % 4096
    counter = 0
    -- Seeded per thread (threadId is the global set by setup()): without this every wrk thread
    -- would draw the same "random" sequence.
    math.randomseed(os.time() * 1000 + threadId * 7919 + runTag * 104729)
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

-- The JSON body of a new, valid PHQ-9 submission with a fresh id and random patient and answers.
function M.body()
    local r = math.random
    return string.format(bodyFormat, uuid(), r(0, 9999),
        r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3), r(0, 3))
end

-- The number global NAME summed over the threads (main state, in done()).
function M.sum(name)
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + (thread:get(name) or 0)
    end
    return total
end

-- The status -> count table global NAME merged over the threads (main state, in done()), and the
-- same as "code:count,..." sorted ("none" if empty).
function M.mergedStatuses(name)
    local byStatus, list = {}, {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get(name) or {}) do
            byStatus[status] = (byStatus[status] or 0) + n
        end
    end
    for status, n in pairs(byStatus) do
        table.insert(list, string.format("%d:%d", status, n))
    end
    table.sort(list)
    return byStatus, (#list > 0 and table.concat(list, ",") or "none")
end

return M
