-- Each request from one of about 50,000 client addresses, forwarded by a trusted proxy
-- (TRUST_PROXY=127.0.0.1): the service's rate limit stays on as shipped and counts devices, as it
-- would behind a proxy. Fewer than the limit's 100,000 addresses a minute, so that every address
-- keeps its own budget (past that, new addresses share one and the bench would measure 429s).
math.randomseed(os.time())
local method = os.getenv("BENCH_METHOD") or "GET"
request = function()
  local ip = "10.0." .. math.random(0, 195) .. "." .. math.random(1, 254)
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(method)
end
