-- wrk 4.1 script: POST /bench/echo (enabled by --set bench/noStoreRoute=true), the HTTP ceiling.
--
--   wrk -t1 -c64 -d10s --latency -s echo.lua http://127.0.0.1:PORT/bench/echo -- TOKEN RUNTAG
--
-- It reuses submit.lua whole, so the echo run sends byte-for-byte the same kind of request (same
-- headers, same body size, same per-request Lua cost in wrk) and counts statuses the same way; only
-- the URL differs, and the echo route answers 202 without parsing or storing.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "submit.lua")
