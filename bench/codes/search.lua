-- wrk script for bench/codes.sh: GET /api/billing/codes over the queries in bench/codes/queries.txt,
-- each thread rotating through them from its own starting point (what typing into a search box sends).
local queries = {}
for line in io.lines(os.getenv("CODES_QUERIES") or "bench/codes/queries.txt") do
   if #line > 0 then queries[#queries + 1] = line end
end
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

local function encode(text)
   return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
   index = (id * 37) % #queries
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("RCM_TOKEN")
end

function request()
   index = index % #queries + 1
   return wrk.format("GET", "/api/billing/codes?system=icd10cm&limit=20&q=" .. encode(queries[index]))
end
