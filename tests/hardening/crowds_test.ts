/**
 * crowds_test.ts -- many clients at once, a process out of file descriptors,
 * and a client that never reads its replies.
 * Each case starts the real programs.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  connect,
  guard,
  Lines,
  MiB,
  REPLY,
  rss,
  Running,
  startServer,
  testWith,
  writeAll,
} from "../helpers.ts";

const encoder = new TextEncoder();

// --- Many clients --------------------------------------------------------------

Deno.test("tcp_server.ts -k serves 1000 concurrent clients, each line under its own address", async () => {
  const { server, port } = await startServer("tcp_server.ts", ["-k"]);
  await using _ = server;
  const conns = await Promise.all(Array.from({ length: 1000 }, () => connect(port, server)));
  await Promise.all(conns.map((c, i) => writeAll(c, encoder.encode(`je suis le client ${i}\n`))));
  for (const c of conns) c.close();
  await server.waitForCount("Déconnecté\n", 1000);
  conns.forEach((c, i) => {
    const line = `[127.0.0.1:${c.localAddr.port}] Reçu : je suis le client ${i}\n`;
    assert.ok(server.stdout.includes(line), line);
  });
  assert.equal(server.stdout.match(/Reçu : /g)?.length, 1000);
  assert.equal(server.stderr, "");
});

Deno.test("ex1_tcp_server.ts -k gives 1000 concurrent clients exactly their own replies", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
  await using _ = server;
  const conns = await Promise.all(Array.from({ length: 1000 }, () => connect(port, server)));
  await Promise.all(conns.map(async (conn, i) => {
    const replies = new Lines(conn, server);
    for (const j of [1, 2]) {
      await writeAll(conn, encoder.encode(`client ${i}, message ${j}\n`));
      assert.equal(await replies.next(), `${REPLY}client ${i}, message ${j}`);
    }
    await writeAll(conn, encoder.encode("quit\n"));
    assert.equal(await replies.next(), null);
    conn.close();
  }));
  // Each client saw its end of stream, but the server's last lines may still be on their way.
  await server.waitForCount("Fin de la conversation\n", 1000);
  assert.equal(server.stderr, "");
});

Deno.test("tcp_server.ts -k out of file descriptors: one error line, then it accepts again", async () => {
  // A limit of 64 descriptors: Deno itself takes about 25, so about 40 clients fit.
  await using server = new Running("sh", [
    "-c",
    "ulimit -n 64 && exec deno run --allow-net tcp_server.ts -k --port 0",
  ]);
  const [, port] = await server.waitFor(/ port (\d+)\.\.\./);
  const conns = await Promise.all(
    Array.from({ length: 80 }, () => connect(Number(port), server)),
  );
  // Each client speaks at once; the server reads only the ones it could accept.
  await Promise.all(conns.map((c, i) => writeAll(c, encoder.encode(`client ${i}\n`))));
  await server.waitFor(/^Erreur: plus de descripteur de fichier libre/m, "stderr");
  // Each client the server has read leaves: its descriptor frees up, and a
  // waiting client gets its turn. (How many fit at once does not matter.)
  const waiting = new Set(conns.keys());
  while (waiting.size > 0) {
    const read = await server.waitUntil(() => {
      const read = [...waiting].filter((i) => server.stdout.includes(`Reçu : client ${i}\n`));
      return read.length > 0 ? read : null;
    }, `a line from one of the ${waiting.size} clients not read yet`);
    for (const i of read) {
      conns[i].close();
      waiting.delete(i);
    }
  }
  await server.waitForCount("Déconnecté\n", 80);
  server.kill("SIGINT");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /Fin du programme\n$/);
});

// --- A slow reader -------------------------------------------------------------

Deno.test("ex1_tcp_server.ts -k does not buffer without bound for a client that never reads", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
  await using _ = server;
  const before = rss(server.child.pid);
  // The slow client sends request after request and never reads a reply.
  const slow = await connect(port, server);
  const requests = encoder.encode("x\n".repeat(32 * 1024)); // 64 KiB of requests
  let written = 0;
  const filled = Promise.withResolvers<void>();
  const writing = (async () => {
    for (let k = 0; k < 1024; k++) { // at most 64 MiB, far more than any buffer
      await writeAll(slow, requests);
      written += requests.length;
      if (written >= 2 * MiB) filled.resolve();
    }
  })().catch(() => {}); // fails once we close the socket below (or its guard runs out)
  // Let it fill the buffers: 2 MiB of requests are 48 MiB of replies.
  await guard(filled.promise, "2 MiB of requests written", server);
  // Meanwhile another client is served as usual.
  const other = await connect(port, server);
  const replies = new Lines(other, server);
  for (const j of [1, 2, 3]) {
    await writeAll(other, encoder.encode(`normal ${j}\n`));
    assert.equal(await replies.next(), `${REPLY}normal ${j}`);
  }
  const grown = rss(server.child.pid) - before;
  assert.ok(written < 64 * MiB, "the slow client was held back (backpressure)");
  assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  slow.close();
  await guard(writing, "end of the slow client's writes");
  other.close();
});

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
