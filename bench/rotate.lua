-- wrk script: rotates over the request paths listed (one per line) in the
-- file named by the environment variable BENCH_PATHS; each thread starts at
-- a different offset. Reports latency percentiles as one JSON line.
local paths = {}
local counter = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_PATHS"), "r"))
  for line in f:lines() do
    if line ~= "" and line:sub(1, 1) ~= "#" then
      paths[#paths + 1] = line
    end
  end
  f:close()
  counter = ((offset or 0) * 7) % #paths
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], { ["Accept"] = "application/json" })
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.2f,"rate":%.1f,"errors":%d,"non2xx":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, s, summary.requests / s,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
