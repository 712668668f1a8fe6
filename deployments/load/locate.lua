-- wrk script: GET /api/v1/regions/locate at random points over Nantong's main districts.
-- Usage: TOKEN=… wrk -t2 -c16 -d20s -s deployments/load/locate.lua http://127.0.0.1:8080
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local lat = 31.85 + math.random() * 0.45
  local lng = 120.55 + math.random() * 1.05
  local path = string.format("/api/v1/regions/locate?lat=%.6f&lng=%.6f", lat, lng)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
