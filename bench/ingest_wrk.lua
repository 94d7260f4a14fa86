-- wrk's side of bench/ingest.py:
--   wrk -t N -c N -s bench/ingest_wrk.lua URL -- <prefix> <alerts per request> <expected status>
-- With 0 alerts per request it GETs the URL. Otherwise it POSTs Alertmanager v4 bodies whose alerts
-- have fingerprints never sent before: <prefix>-<thread>-<request>-<alert>. One connection per
-- thread (-t N -c N), so a thread's responses come back in its requests' order, and done() can say
-- which requests were answered as expected: the bench checks exactly those were stored. A request
-- is numbered by the responses before it, not by calls to request(): wrk calls it once more on
-- thread 0 to verify the script, a request it never sends.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix, batch, expect = args[1], tonumber(args[2]), tonumber(args[3])
  answered, refused = 0, ""
end

local head = '{"version":"4","groupKey":"{}:{alertname=\\"BenchAlert\\"}","truncatedAlerts":0,'
  .. '"status":"firing","receiver":"mitigate","groupLabels":{"alertname":"BenchAlert"},'
  .. '"commonLabels":{"alertname":"BenchAlert","service":"checkout","severity":"warning"},'
  .. '"commonAnnotations":{"summary":"bench alert"},"externalURL":"http://alertmanager.example.com:9093",'
  .. '"alerts":['

local function alert(fingerprint)
  return '{"status":"firing","labels":{"alertname":"BenchAlert","service":"checkout",'
    .. '"severity":"warning","instance":"host-' .. fingerprint .. ':9100"},'
    .. '"annotations":{"summary":"bench alert","runbook_url":"https://runbooks.example.com/bench"},'
    .. '"startsAt":"2024-03-05T14:02:11.482Z","endsAt":"0001-01-01T00:00:00Z",'
    .. '"generatorURL":"http://prometheus.example.com:9090/graph?g0.expr=up",'
    .. '"fingerprint":"' .. fingerprint .. '"}'
end

function request()
  if batch == 0 then
    return wrk.format("GET")
  end
  local alerts = {}
  for k = 0, batch - 1 do
    alerts[#alerts + 1] = alert(prefix .. "-" .. id .. "-" .. answered .. "-" .. k)
  end
  local body = head .. table.concat(alerts, ",") .. "]}"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= expect then
    refused = refused .. answered .. ":" .. status .. ","
  end
  answered = answered + 1
end

-- One JSON line on stdout for bench/ingest.py.
function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    parts[#parts + 1] = string.format('{"id":%d,"answered":%d,"refused":"%s"}',
      thread:get("id"), thread:get("answered"), thread:get("refused"))
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"threads":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout, table.concat(parts, ",")))
end
