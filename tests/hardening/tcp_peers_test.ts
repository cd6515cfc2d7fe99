/**
 * tcp_peers_test.ts -- what real TCP peers do to a teaching server: an endless
 * line, garbage bytes, resets before and after accept, clients killed mid-line.
 * Each case starts the real programs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MAX_LINE } from "../../lib/lines.ts";
import {
  connect,
  guard,
  Lines,
  linesOf,
  MiB,
  readToEnd,
  REPLY,
  ROOT,
  rss,
  Running,
  seededRandom,
  startServer,
  testWith,
  workshopPeer,
  writeAll,
} from "../helpers.ts";

const encoder = new TextEncoder();

// --- A 200 MB stream with no newline -------------------------------------------

/** The byte at position `i` of the endless line: letters, so that bytes are characters. */
const letterAt = (i: number) => 97 + (i % 23);

/**
 * Checks, as it streams by, that a server's stdout prints exactly the endless
 * line: "Reçu : <piece> [à suivre]" lines whose pieces, joined, are the bytes
 * sent. Returns how many bytes it saw, and the piece lengths it saw.
 */
async function checkPrintedLine(
  stdout: ReadableStream<Uint8Array>,
  onReady: (port: number) => void,
) {
  const prefix = encoder.encode("Reçu : ");
  const marker = encoder.encode(" [à suivre]");
  let seen = 0;
  let pieces = 0;
  let shortPieces = 0;
  let pending = new Uint8Array(0);
  const endsWith = (line: Uint8Array, tail: Uint8Array) =>
    line.length >= tail.length &&
    tail.every((b, k) => line[line.length - tail.length + k] === b);
  for await (const chunk of stdout) {
    const data = new Uint8Array(pending.length + chunk.length);
    data.set(pending);
    data.set(chunk, pending.length);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      const line = data.subarray(start, nl);
      start = nl + 1;
      if (!prefix.every((b, k) => line[k] === b)) {
        const text = new TextDecoder().decode(line);
        const port = text.match(/ sur le port (\d+)\.\.\.$/);
        if (port) onReady(Number(port[1]));
        continue; // "Client connecté", "Déconnecté", "Fin de la conversation"
      }
      const cut = endsWith(line, marker);
      const piece = line.subarray(prefix.length, line.length - (cut ? marker.length : 0));
      for (let k = 0; k < piece.length; k++) {
        if (piece[k] !== letterAt(seen + k)) throw new Error(`byte ${seen + k} differs`);
      }
      seen += piece.length;
      pieces++;
      if (cut && piece.length !== MAX_LINE) shortPieces++;
    }
    pending = data.slice(start);
  }
  return { seen, pieces, shortPieces };
}

for (const file of ["tcp_server.ts", "exercises/ex1_tcp_server.ts"]) {
  Deno.test(`${file} prints a 200 MB line in marked pieces, every byte, in bounded memory`, async () => {
    const total = 200 * MiB;
    const child = new Deno.Command("deno", {
      args: ["run", "--allow-net", file, "--port", "0"],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const ready = Promise.withResolvers<number>();
    const printed = checkPrintedLine(child.stdout, ready.resolve);
    // A server that ends before its ready line fails the test at once.
    printed.finally(() => ready.reject(new Error("the server ended before its ready line")))
      .catch(() => {});
    const port = await guard(ready.promise, "ready line");
    const conn = await connect(port);
    // The exercise server answers every piece: read its replies as they come.
    let replies = 0;
    const drained = (async () => {
      const buffer = new Uint8Array(65536);
      for (let n; (n = await guard(conn.read(buffer), "reply")) !== null;) {
        for (let k = 0; k < n; k++) if (buffer[k] === 10) replies++;
      }
    })();
    const before = rss(child.pid);
    let peak = before;
    const block = new Uint8Array(MiB + 23);
    for (let k = 0; k < block.length; k++) block[k] = letterAt(k);
    for (let sent = 0; sent < total; sent += MiB) {
      await writeAll(conn, block.subarray(sent % 23, (sent % 23) + MiB));
      if (sent % (8 * MiB) === 0) peak = Math.max(peak, rss(child.pid));
    }
    await conn.closeWrite(); // end of the line: the server prints its last piece
    await guard(drained, "end of the replies");
    conn.close();
    const { seen, pieces, shortPieces } = await guard(printed, "end of the output");
    const status = await guard(child.status, "exit");
    assert.equal(status.code, 0, await guard(stderr, "end of stderr"));
    assert.equal(seen, total, "the bytes printed are the bytes sent");
    assert.equal(pieces, Math.ceil(total / MAX_LINE));
    assert.equal(shortPieces, 0, "every marked piece is a full piece");
    if (file.includes("ex1")) assert.equal(replies, pieces - 1, "one reply per cut piece");
    assert.ok(peak - before < 64 * MiB, `RSS grew by ${((peak - before) / MiB).toFixed(1)} MiB`);
  });
}

// --- Binary and invalid UTF-8 --------------------------------------------------

Deno.test("tcp_server.ts -k survives random bytes, NULs, surrogates and a cut character", async () => {
  const { server, port } = await startServer("tcp_server.ts", ["-k"]);
  await using _ = server;
  const random = seededRandom(4242);
  const garbage = new Uint8Array(256 * 1024);
  for (let k = 0; k < garbage.length; k++) garbage[k] = Math.floor(random() * 256);
  const bad = await connect(port, server);
  await writeAll(bad, garbage);
  // An encoded lone surrogate, a NUL, and a 3-byte character cut at the end of the stream.
  await writeAll(bad, new Uint8Array([0x0a, 0xed, 0xa0, 0x80, 0x00, 0x0a, 0x41, 0xe2, 0x82]));
  bad.close();
  await server.waitFor(/Reçu : A\uFFFD\n\[127\.0\.0\.1:\d+\] Déconnecté\n/);
  // The surrogate becomes U+FFFD, the NUL is shown as \x00.
  assert.ok(server.stdout.includes("Reçu : \uFFFD\uFFFD\uFFFD\\x00\n"), "surrogate and NUL");
  const good = await connect(port, server);
  await writeAll(good, encoder.encode("toujours là\n"));
  await server.waitFor("Reçu : toujours là\n");
  good.close();
  assert.equal(server.stderr, "");
});

Deno.test("ex1_tcp_server.ts answers a line cut inside a character at the end of the stream", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
  await using _ = server;
  const conn = await connect(port, server);
  await writeAll(conn, new Uint8Array([0x61, 0x62, 0xf0, 0x9f, 0x98]));
  await conn.closeWrite();
  const reply = await readToEnd(conn, server);
  conn.close();
  assert.equal(reply, `${REPLY}ab\uFFFD`);
  assert.match((await server.finished()).stdout, /\nReçu : ab\uFFFD\nFin de la conversation\n$/);
});

// --- A client that resets the connection, or vanishes mid-line -----------------

/**
 * A Python client that sends `data`, then, once its stdin closes (when the
 * test has seen the server print the data), resets the connection: SO_LINGER
 * 0 makes close() send an RST instead of a FIN.
 */
function resettingClient(port: number, data: string): Running {
  return new Running("python3", [
    "-c",
    `import socket, struct, sys
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(sys.argv[1].encode())
sys.stdin.read()
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()`,
    data,
  ], { stdin: "piped" });
}

const RESET_LINE = /^Erreur: connexion réinitialisée par le pair \(client 127\.0\.0\.1:\d+\)\n$/m;

for (const file of ["tcp_server.ts", "exercises/ex1_tcp_server.ts"]) {
  testWith(
    ["python3"],
    `${file} -k reports a reset in one line and keeps serving the others`,
    async () => {
      const { server, port } = await startServer(file, ["-k"]);
      await using _ = server;
      const other = await connect(port, server);
      const otherReplies = new Lines(other, server);
      await writeAll(other, encoder.encode("avant\n"));
      await server.waitFor("Reçu : avant\n");
      await using reset = resettingClient(port, "dernier mot\nà moi");
      await server.waitFor(/Reçu : à moi\n/); // after the quiet time: no newline came
      await reset.closeStdin();
      assert.equal((await reset.finished()).code, 0);
      await server.waitFor(RESET_LINE, "stderr");
      assert.equal(linesOf(server.stderr).length, 1, "one line");
      assert.match(server.stdout, /Reçu : dernier mot\n/);
      // The other client's conversation goes on, unaffected.
      await writeAll(other, encoder.encode("après\n"));
      await server.waitFor("Reçu : après\n");
      if (file.includes("ex1")) {
        assert.equal(await otherReplies.next(), `${REPLY}avant`);
        assert.equal(await otherReplies.next(), `${REPLY}après`);
      }
      other.close();
    },
  );
}

testWith(
  ["python3"],
  "tcp_server.ts (one client) reports a reset in one line, then exits 1",
  async () => {
    const { server, port } = await startServer("tcp_server.ts");
    await using _ = server;
    await using reset = resettingClient(port, "ligne\nmoitié");
    await server.waitFor("Reçu : moitié\n");
    await reset.closeStdin();
    await reset.finished();
    const { code, stdout, stderr } = await server.finished();
    assert.equal(code, 1);
    assert.match(stdout, /\nReçu : ligne\nReçu : moitié\n$/);
    assert.match(stderr, RESET_LINE);
    assert.equal(linesOf(stderr).length, 1);
  },
);

testWith(
  ["python3"],
  "ex1_tcp_server.ts (one client) keeps the lines before a reset, then exits 1",
  async () => {
    const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
    await using _ = server;
    await using reset = resettingClient(port, "un\ndeux\n");
    await server.waitFor("Reçu : deux\n");
    await reset.closeStdin();
    await reset.finished();
    const { code, stdout, stderr } = await server.finished();
    assert.equal(code, 1);
    assert.match(stdout, /\nReçu : un\nReçu : deux\n$/);
    assert.match(stderr, RESET_LINE);
  },
);

testWith(
  ["python3"],
  "tcp_server.ts -k survives clients that reset before they are even accepted",
  async () => {
    const { server, port } = await startServer("tcp_server.ts", ["-k"]);
    await using _ = server;
    // 50 clients that connect and reset at once, racing the server's accept.
    await using burst = new Running("python3", [
      "-c",
      `import socket, struct
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", ${port}))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()`,
    ]);
    assert.equal((await burst.finished()).code, 0);
    const conn = await connect(port, server);
    await writeAll(conn, encoder.encode("toujours là ?\n"));
    await server.waitFor("Reçu : toujours là ?\n");
    conn.close();
    // Each reset is at most one line: before accept, or after it.
    for (const line of linesOf(server.stderr)) {
      assert.match(
        line,
        /^Erreur: (un client est parti avant d'être accepté|connexion réinitialisée)/,
      );
    }
  },
);

testWith(
  ["python3"],
  "tcp_server.ts prints the half line of a client killed mid-line",
  async () => {
    const { server, port } = await startServer("tcp_server.ts");
    await using _ = server;
    await using peer = workshopPeer(["tcp-client", "127.0.0.1", String(port), "à moitié"], {
      stdin: "piped",
    });
    await peer.waitFor("envoyé: à moitié");
    peer.kill("SIGKILL"); // the process vanishes; its system closes the socket
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(stdout, /\nReçu : à moitié\nDéconnecté\n$/);
  },
);

testWith(
  ["python3"],
  "tcp_server.ts paused past its quiet time still prints a line sent in two parts as one",
  async () => {
    const { server, port } = await startServer("tcp_server.ts");
    await using _ = server;
    // The pauses are the stimulus, not waits: the server is stopped (SIGSTOP) while the
    // end of the line arrives, and stays stopped longer than its 100 ms quiet time.
    const peer = new Running("python3", [
      "-c",
      `import os, signal, socket, time
s = socket.create_connection(("127.0.0.1", ${port}))
for i in range(3):
    s.sendall(b"debut ")
    time.sleep(0.02)
    os.kill(${server.child.pid}, signal.SIGSTOP)
    s.sendall(b"fin\\n")
    time.sleep(0.3)
    os.kill(${server.child.pid}, signal.SIGCONT)
s.close()
print("done", flush=True)`,
    ]);
    assert.equal((await peer.finished()).code, 0, peer.transcript());
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(stdout, /\nReçu : debut fin\nReçu : debut fin\nReçu : debut fin\nDéconnecté\n$/);
  },
);
