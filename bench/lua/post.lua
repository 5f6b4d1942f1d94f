-- wrk script of bench/loadgen.py: POSTs a distinct, valid JSON body per request.
--
--   wrk -t2 -c32 -d10s -s bench/lua/post.lua URL -- LINES TEMPLATE THREADS IDEMPOTENCY PREFIX
--
-- LINES: a file of "path<TAB>bearer token" lines, one per request (a fresh enterprise's
-- provider token, or an audit's path and its bureau's token), shared round-robin between the
-- threads (line i goes to thread i % THREADS) and used once each; "-": every request goes to
-- the URL's path without a token. TEMPLATE: a file with the JSON body, where every "{n}" is
-- replaced by a key unique to the request (PREFIX-thread-counter). IDEMPOTENCY "1": each
-- request also carries "Idempotency-Key: <that key>".
-- Every answer but 201 is counted (and the first one kept); when the lines run out they are
-- reused, which the service refuses, so the benchmark fails rather than measuring errors.
-- done() prints one line "WRKJSON {...}" that bench/loadgen.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[3])
  idempotency = args[4] == "1"
  prefix = args[5]
  lines = {}
  if args[1] ~= "-" then
    local i = 0
    for line in io.lines(args[1]) do
      if i % nthreads == tid then
        local path, token = line:match("^([^\t]*)\t(.*)$")
        table.insert(lines, {path, token})
      end
      i = i + 1
    end
  end
  local f = assert(io.open(args[2], "rb"))
  template = f:read("*a")
  f:close()
  n = 0
  bad = 0
  exhausted = 0
  first_bad = ""
end

function request()
  n = n + 1
  local key = prefix .. "-" .. tid .. "-" .. n
  local headers = {["Content-Type"] = "application/json"}
  local path = wrk.path
  if #lines > 0 then
    local line = lines[n]
    if line == nil then
      exhausted = exhausted + 1
      line = lines[(n - 1) % #lines + 1]
    end
    path = line[1]
    if line[2] ~= "" then
      headers["Authorization"] = "Bearer " .. line[2]
    end
  end
  if idempotency then
    headers["Idempotency-Key"] = key
  end
  local body = template:gsub("{n}", key)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local bad_total, exhausted_total, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    exhausted_total = exhausted_total + (thread:get("exhausted") or 0)
    if first == "" then first = thread:get("first_bad") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non_201":%d,"exhausted":%d,"first_bad":%s,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, bad_total, exhausted_total, quote(first),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
