// Runs autocannon once, in its own process, and prints one JSON line with the result.
// Usage: node bench/_load/autocannon_run.mjs --url http://127.0.0.1:PORT/ --connections 100 --duration 10
//        [--amount N] [--rate N] [--pipelining N] [--timeout s]
import process from "node:process";
import autocannon from "autocannon";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const url = arg("url");
if (url === undefined) throw new Error("--url is required");
const result = await autocannon({
  url,
  connections: Number(arg("connections", "100")),
  duration: Number(arg("duration", "10")),
  // Seconds before a request counts as timed out (autocannon's default is 10).
  timeout: Number(arg("timeout", "10")),
  // A fixed number of requests instead of a duration (0: use the duration).
  ...(Number(arg("amount", "0")) > 0 ? { amount: Number(arg("amount", "0")) } : {}),
  pipelining: Number(arg("pipelining", "1")),
  // A fixed total request rate (0: as fast as possible), to compare CPU cost at equal load.
  ...(Number(arg("rate", "0")) > 0 ? { overallRate: Number(arg("rate", "0")) } : {}),
});
const seconds = (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000;
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    seconds,
    reqPerSec: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  }) + "\n",
);
