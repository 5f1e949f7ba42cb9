-- wrk script: POST /api/payments, rotating over the bookings given in BOOKINGS
-- (comma-separated ids, each with room for every payment the run makes).
-- MODE=new: every request a new payment (its amount unique in the run, so the
-- duplicate rule runs and never matches). MODE=replay: REPLAY_KEYS Idempotency-Keys
-- reused over and over, each always with the same body (after its first request,
-- every answer is the stored one).
local bookings = {}
for id in string.gmatch(os.getenv("BOOKINGS") or "", "[^,]+") do
  bookings[#bookings + 1] = id
end
local mode = os.getenv("MODE") or "new"
local nkeys = tonumber(os.getenv("REPLAY_KEYS") or "20")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

function request()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  local n, amount
  if mode == "replay" then
    n = counter % nkeys
    headers["Idempotency-Key"] = string.format("bench-replay-%d", n)
    amount = 100000 + n -- minor units
  else
    n = counter
    -- unique per thread and request: 1.00 + a cent per request, thread in the rupees
    amount = 100 + thread_id * 1000000 + counter
  end
  local booking = bookings[(n % #bookings) + 1]
  local body = string.format(
    '{"booking":"%s","amount":%d.%02d,"currency":"INR","paymentMethod":"card"}',
    booking, math.floor(amount / 100), amount % 100)
  return wrk.format("POST", "/api/payments", headers, body)
end

n201, n409, n4xx, n5xx, replayed, first_error = 0, 0, 0, 0, 0, ""

function response(status, headers, body)
  if status == 201 then n201 = n201 + 1
  elseif status == 409 then n409 = n409 + 1
  elseif status < 500 then n4xx = n4xx + 1
  else n5xx = n5xx + 1 end
  if headers["Idempotent-Replayed"] == "true" then replayed = replayed + 1 end
  if status ~= 201 and first_error == "" then first_error = status .. " " .. body end
end

function done(summary, latency, requests)
  local t201, t409, t4xx, t5xx, rep, err = 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    t201 = t201 + t:get("n201")
    t409 = t409 + t:get("n409")
    t4xx = t4xx + t:get("n4xx")
    t5xx = t5xx + t:get("n5xx")
    rep = rep + t:get("replayed")
    if err == "" then err = t:get("first_error") end
  end
  io.write(string.format("statuses: 201=%d 409=%d other4xx=%d 5xx=%d replayed=%d\n" ..
                         "first non-201: %s\n", t201, t409, t4xx, t5xx, rep,
                         string.sub(err, 1, 300)))
end
