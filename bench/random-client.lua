-- Each request from a different client address, forwarded by a trusted proxy (TRUST_PROXY=127.0.0.1):
-- the service's rate limit stays on as shipped and counts devices, as it would behind a proxy.
math.randomseed(os.time())
local method = os.getenv("BENCH_METHOD") or "GET"
request = function()
  local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(method)
end
