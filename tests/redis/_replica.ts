// One replica of examples/cluster.ts, for tests/redis/cluster_test.ts (which
// spawns three): args are the Redis URL, the replica's name and the breaker's
// reset timeout in ms.
import { runReplica } from "../../examples/cluster.ts";

const [url = "", name = "A", resetTimeout = "5000"] = process.argv.slice(2).filter((a) =>
  !a.startsWith("-")
);
await runReplica(url, name, Number(resetTimeout));
