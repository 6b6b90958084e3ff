-- issue.lua: wrk script for tests/bench/issue.  POSTs the CSR in
-- $CAIRN_BENCH_CSR to the URL wrk was given, authenticated with HTTP
-- Basic ($CAIRN_BENCH_AUTH, base64), and prints one machine-readable
-- line at the end: RESULT requests non2xx seconds p50_ms p99_ms.
local f = assert(io.open(os.getenv("CAIRN_BENCH_CSR"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/pkcs10"
wrk.headers["Authorization"] = "Basic " .. os.getenv("CAIRN_BENCH_AUTH")

function done(summary, latency, requests)
	io.write(string.format("RESULT %d %d %.3f %.3f %.3f\n",
		summary.requests, summary.errors.status,
		summary.duration / 1e6, latency:percentile(50) / 1000,
		latency:percentile(99) / 1000))
end
