-- ocsp.lua: wrk script for tests/bench/ocsp: rotate over OCSP requests.
--
--   wrk ... -s ocsp.lua URL -- FILE MODE PATH
-- FILE holds one request per line, as hex (DER); MODE is POST or GET;
-- PATH is the responder's path ("/ocsp" or "/").  Every request is
-- formatted once in init(), so request() is a table lookup, and each
-- thread starts at its own offset.

local reqs = {}
local i = 0

local function unhex(h)
	return (h:gsub("..", function(b) return string.char(tonumber(b, 16)) end))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(data)
	return ((data:gsub(".", function(x)
		local r, b = "", x:byte()
		for k = 8, 1, -1 do r = r .. (b % 2 ^ k - b % 2 ^ (k - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for k = 1, 6 do c = c + (x:sub(k, k) == "1" and 2 ^ (6 - k) or 0) end
		return b64chars:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local function urlenc(s)
	return (s:gsub("[+/=]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
	local file, mode, path = args[1], args[2], args[3]
	local sep = path:sub(-1) == "/" and "" or "/"
	for line in io.lines(file) do
		local der = unhex(line)
		if mode == "GET" then
			reqs[#reqs + 1] = wrk.format("GET", path .. sep .. urlenc(b64(der)))
		else
			reqs[#reqs + 1] = wrk.format("POST", path,
				{ ["Content-Type"] = "application/ocsp-request" }, der)
		end
	end
	i = math.random(#reqs)
end

function request()
	i = i % #reqs + 1
	return reqs[i]
end
