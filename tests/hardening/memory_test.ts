import assert from "node:assert/strict";
/**
 * memory_test.ts -- clients that send and never read the replies must not
 * make ex1_tcp_server.ts -k hold their replies, or their requests, without
 * bound: the server stops reading such a client, and TCP holds it back.
 *
 * @module
 */
import { REPLY, Running, startServer, testWith } from "../helpers.ts";

const MiB = 1024 * 1024;

/** The resident memory of a process, in bytes (Deno wants --allow-all for /proc, so: cat). */
function rss(pid: number): number {
  const { stdout } = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  const status = new TextDecoder().decode(stdout);
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
}

/**
 * 200 clients that each try to send 1 MB of "x\n" and never read. Prints
 * "held back N" once no socket has taken a byte for 2 s (TCP holds them all
 * back), or "all sent N"; then waits for its stdin to close.
 */
const HOARDERS = `
import select, socket, sys
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
left = {s: 1_000_000 for s in socks}
for s in socks: s.setblocking(False)
chunk = b"x\\n" * 32768
while left:
    _, writable, _ = select.select([], list(left), [], 2)
    if not writable: break
    for s in writable:
        try:
            n = s.send(chunk[: min(len(chunk), left[s])])
        except BlockingIOError:
            continue
        left[s] -= n
        if left[s] == 0: del left[s]
sent = 200 * 1_000_000 - sum(left.values())
print(("held back " if left else "all sent ") + str(sent), flush=True)
sys.stdin.read()
`;

testWith(
  ["python3"],
  "ex1_tcp_server.ts -k with 200 clients that never read: RSS grows less than 128 MiB, others are served",
  async () => {
    const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
    await using _ = server;
    const before = rss(server.child.pid);
    await using hoarders = new Running("python3", ["-c", HOARDERS, String(port)], {
      stdin: "piped",
    });
    // "all sent" is no failure: the kernel's socket buffers on loopback can hold
    // much of a megabyte per connection. What the server itself holds is its RSS.
    await hoarders.waitFor(/^(held back|all sent) \d+\n/m);
    let peak = rss(server.child.pid);
    // Meanwhile another client is served.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("bonjour\n"));
    const reply = new Uint8Array(256);
    let got = "";
    while (!got.endsWith("\n")) {
      const n = await conn.read(reply);
      if (n === null) break;
      got += new TextDecoder().decode(reply.subarray(0, n));
    }
    assert.equal(got, `${REPLY}bonjour\n`);
    conn.close();
    peak = Math.max(peak, rss(server.child.pid));
    const grown = peak - before;
    assert.ok(grown < 128 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    await hoarders.closeStdin();
    await hoarders.finished();
    server.kill("SIGTERM");
    assert.equal((await server.finished()).code, 0);
  },
);
