-- wrk script: POST /api/bookings with a fresh destination per request (so the
-- conflict check runs but never finds a conflict), rotating over customers given
-- in the CUSTOMERS environment variable (comma-separated ids).
local customers = {}
for id in string.gmatch(os.getenv("CUSTOMERS") or "", "[^,]+") do
  customers[#customers + 1] = id
end
local counter = 0
local thread_id = 0
local threads = {}

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
