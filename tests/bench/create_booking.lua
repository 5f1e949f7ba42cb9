-- wrk script: POST /api/bookings with a fresh destination per request (so the
-- conflict check runs but never finds a conflict), rotating over customers given
-- in the CUSTOMERS environment variable (comma-separated ids).
local customers = {}
for id in string.gmatch(os.getenv("CUSTOMERS") or "", "[^,]+") do
  customers[#customers + 1] = id
end
local counter = 0
local threads = {}

-- thread_id is a global of each thread's own Lua state, set here (a local of the
-- same name would shadow it: every thread would then send the same bookings).
function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

function request()
  counter = counter + 1
  local customer = customers[(counter % #customers) + 1]
  local body = string.format(
    '{"customer":"%s","tripDetails":{"title":"Bench trip","destination":"Bench-%d-%d",' ..
    '"startDate":"2028-01-10","endDate":"2028-01-15","tripType":"leisure",' ..
    '"travellers":{"adults":2}},"pricing":{"totalAmount":45000,"currency":"INR"}}',
    customer, thread_id, counter)
  -- wrk.format replaces the command line's -H headers with the table given: copy them.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/bookings", headers, body)
end

-- What the non-2xx answers were: counted per thread, printed once at the end.
n201, n409, n4xx, n5xx, first_error = 0, 0, 0, 0, ""

function response(status, headers, body)
  if status == 201 then n201 = n201 + 1
  elseif status == 409 then n409 = n409 + 1
  elseif status < 500 then n4xx = n4xx + 1
  else n5xx = n5xx + 1 end
  if status ~= 201 and first_error == "" then first_error = status .. " " .. body end
end

function done(summary, latency, requests)
  local t201, t409, t4xx, t5xx, err = 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    t201 = t201 + t:get("n201")
    t409 = t409 + t:get("n409")
    t4xx = t4xx + t:get("n4xx")
    t5xx = t5xx + t:get("n5xx")
    if err == "" then err = t:get("first_error") end
  end
  io.write(string.format("statuses: 201=%d 409=%d other4xx=%d 5xx=%d\nfirst non-201: %s\n",
                         t201, t409, t4xx, t5xx, string.sub(err, 1, 300)))
end
