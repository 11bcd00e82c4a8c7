-- wrk script for bench/run.sh: POST /api/billing/generate with a distinct Idempotency-Key per request.
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

function init(args)
   prefix = string.format("bench-%d-%d-", os.time(), id)
   counter = 0
   wrk.method = "POST"
   wrk.path = "/api/billing/generate"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("RCM_TOKEN")
   wrk.body = '{"patientId":"P10001","services":['
      .. '{"code":"OPD001","description":"Doctor Consultation","cost":400},'
      .. '{"code":"LAB025","description":"Blood Test","cost":250}]}'
end

function request()
   counter = counter + 1
   wrk.headers["Idempotency-Key"] = prefix .. counter
   return wrk.format()
end
