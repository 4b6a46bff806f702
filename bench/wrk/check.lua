-- Closed-loop load for wrk that checks every response, so an error page is counted as an error
-- instead of being measured as speed. wrk has no JSON parser, so the body is checked for the
-- markers of a chat completion (an object, "object":"chat.completion", non-empty content); the
-- Node open-loop runs parse every body in full.
-- Input comes from the environment: BENCH_BODY (request JSON) and BENCH_HEADERS
-- ("name:value;name:value"), so direct, nginx and Floodgate runs share one script.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^:;]+):([^;]*)") do
  wrk.headers[name] = value
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good = 0
  bad_body = 0
  bad_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body:sub(1, 1) == "{"
      and body:find('"object":"chat.completion"', 1, true)
      and body:find('"content":"[^"]')
      and body:find("}%s*$") then
    good = good + 1
  else
    bad_body = bad_body + 1
  end
end

-- One machine-readable line for the harness; wrk's own report is printed above it.
function done(summary, latency, requests)
  local g, b, s = 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad_body")
    s = s + t:get("bad_status")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"good":%d,"badBody":%d,"badStatus":%d,"requests":%d,"durationUs":%d,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"statusErrors":%d,' ..
    '"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    g, b, s, summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
