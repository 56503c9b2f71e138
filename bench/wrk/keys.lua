-- Like chat.lua, but every request uses the next of many API keys (BENCH_KEYS_FILE: one key per line).
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/wrk/?.lua"
require "common"

local model = os.getenv("BENCH_MODEL") or "bench/model"
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS_FILE")) do
  keys[#keys + 1] = line
end
local body = '{"model":"' .. model .. '","stream":false,"max_tokens":64,"messages":[{"role":"user",' ..
  '"content":"Write a short haiku about load balancers."}]}'
local i = 0

request = function()
  i = i + 1
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. keys[(i % #keys) + 1]}
  return wrk.format("POST", nil, headers, body)
end

done = json_done
