-- POST a chat completion; BENCH_STREAM=1 asks for a stream. BENCH_MODEL and BENCH_KEY from the environment.
package.path = package.path .. ";" .. (os.getenv("BENCH_DIR") or ".") .. "/wrk/?.lua"
require "common"

local model = os.getenv("BENCH_MODEL") or "bench/model"
local key = os.getenv("BENCH_KEY") or "none"
local stream = os.getenv("BENCH_STREAM") == "1"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","stream":' .. (stream and "true" or "false") ..
  ',"max_tokens":64,"messages":[{"role":"system","content":"You are a helpful assistant."},' ..
  '{"role":"user","content":"Write a short haiku about load balancers."}]}'

done = json_done
