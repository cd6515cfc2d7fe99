/**
 * hardening_test.ts -- what real peers do to a teaching server: endless lines,
 * garbage bytes, resets, crowds, slow readers, signals, vanishing servers,
 * odd datagrams, IPv6 and missing permissions. Each case starts the real
 * programs; the case numbers are those of the hardening issue.
 */
import assert from "node:assert/strict";
import { MAX_LINE } from "../lib/lines.ts";
import {
  connect,
  guard,
  Lines,
  linesOf,
  program,
  readToEnd,
  REPLY,
  resendUntil,
  ROOT,
  Running,
  runProgram,
  seededRandom,
  startServer,
  testWith,
  UDP_TIMEOUT,
  udpSocket,
  workshopPeer,
  writeAll,
} from "./helpers.ts";

const encoder = new TextEncoder();

/** Resident memory of a process, in bytes (Linux). Deno asks for --allow-all to read /proc: cat can. */
function rss(pid: number): number {
  const { stdout } = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  const status = new TextDecoder().decode(stdout);
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
}

const MiB = 1024 * 1024;

// --- 1. A 200 MB stream with no newline -------------------------------------

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

// --- 2. Binary and invalid UTF-8 --------------------------------------------

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
  assert.ok(server.stdout.includes("Reçu : \uFFFD\uFFFD\uFFFD\u0000\n"), "surrogate and NUL");
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

// --- 3. A client that resets the connection, or vanishes mid-line ----------

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

// --- 4. Many clients ---------------------------------------------------------

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

// --- 5. A slow reader --------------------------------------------------------

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

// --- 6. Signals --------------------------------------------------------------

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`ex1_tcp_server.ts -k on ${signal} with clients connected: Fin de la conversation, sockets closed, exit 0`, async () => {
    const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
    await using _ = server;
    const conns = await Promise.all([1, 2, 3].map(() => connect(port, server)));
    await server.waitForCount("Client connecté", 3);
    server.kill(signal);
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(stdout, /\nFin de la conversation\n$/);
    for (const conn of conns) {
      assert.equal(await readToEnd(conn, server), "", "the server closed it");
      conn.close();
    }
  });
}

Deno.test("tcp_server.ts (one client) on SIGTERM mid-conversation: Fin du programme, exit 0", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const conn = await connect(port, server);
  await writeAll(conn, encoder.encode("bonjour\n"));
  await server.waitFor("Reçu : bonjour\n");
  server.kill("SIGTERM");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /Reçu : bonjour\nFin du programme\n$/);
  assert.equal(await readToEnd(conn, server), "");
  conn.close();
});

Deno.test("a second Ctrl+C while stopping leaves at once with code 130", async () => {
  await using fixture = program("tests/fixtures/slow_stop.ts", [], { denoFlags: [] });
  await fixture.waitFor("prêt\n");
  fixture.kill("SIGINT");
  await fixture.waitFor("arrêt en cours...\n");
  fixture.kill("SIGINT");
  assert.equal((await fixture.finished()).code, 130);
});

// --- 7. The server vanishes mid-conversation ---------------------------------

testWith(
  ["python3"],
  "ex1_tcp_client.ts waiting for a reply when the server is killed: Déconnecté",
  async () => {
    // A workshop-style server that reads but never answers, then dies.
    await using peer = workshopPeer(["tcp-server", "0"]);
    const [, port] = await peer.waitFor(/port (\d+)/);
    await using client = program("exercises/ex1_tcp_client.ts", ["--port", port], {
      stdin: "piped",
    });
    await client.write("tu es là ?\n");
    await peer.waitFor("Reçu : tu es là ?\n");
    peer.kill("SIGKILL");
    const { code, stdout, stderr } = await client.finished();
    // The system closed the dead server's socket: the client reads the end of
    // the stream (or, if a reset overtook it, says so). One line either way.
    if (code === 0) assert.equal(stdout, "Déconnecté\n");
    else {
      assert.equal(code, 1);
      assert.match(stderr, /^Erreur: connexion réinitialisée par le pair \(127\.0\.0\.1:\d+\)\n$/);
    }
  },
);

Deno.test("ex2_udp_client.ts after its server was killed: no reply, it says so and goes on", async () => {
  const { server, port } = await startServer("exercises/ex2_udp_server.ts");
  await using _ = server;
  // The first reply must come within --timeout whatever the load: a generous one.
  await using client = program(
    "exercises/ex2_udp_client.ts",
    ["--port", String(port), "--timeout", UDP_TIMEOUT],
    { stdin: "piped" },
  );
  await client.write("un\n");
  await client.waitFor(`Serveur: ${REPLY}un\n`);
  server.kill("SIGKILL");
  await server.finished();
  await client.write("deux\n");
  await client.waitFor(`Pas de réponse du serveur après ${UDP_TIMEOUT} s`);
  await client.write("quit\n");
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\(UDP ne garantit pas la livraison\)\nFin du client UDP\n$/);
});

// --- 8. UDP edge cases -------------------------------------------------------

Deno.test("udp_server.ts prints an empty datagram, and a 65,507-byte one whole or cut", async () => {
  const { server, port } = await startServer("udp_server.ts", ["--buffer-size", "65536"]);
  await using _ = server;
  const client = udpSocket();
  await client.socket.send(new Uint8Array(0), client.to(port));
  await server.waitFor(`[127.0.0.1:${client.port}] Message reçu: \n`);
  const biggest = new Uint8Array(65507).fill(0x7a); // the largest IPv4 UDP payload
  await client.socket.send(biggest, client.to(port));
  const [line] = await server.waitFor(/Message reçu: z+\n/);
  assert.equal(line.length, "Message reçu: ".length + 65507 + 1, "whole, not cut");
  const { server: small, port: smallPort } = await startServer("udp_server.ts");
  await using __ = small;
  await client.socket.send(biggest, client.to(smallPort));
  await small.waitFor(/Message reçu: z{1024} \(coupé : datagramme de plus de 1024 octets\)\n/);
  client.socket.close();
});

for (const file of ["udp_server.ts", "exercises/ex2_udp_server.ts"]) {
  Deno.test(`${file} survives a burst of 100,000 datagrams and stays responsive`, async () => {
    const { server, port } = await startServer(file);
    await using _ = server;
    const client = udpSocket();
    const data = encoder.encode("rafale\n");
    for (let k = 0; k < 100_000; k++) await client.socket.send(data, client.to(port));
    // UDP may drop what the server's buffer could not hold; a late probe must
    // still get through. Resend it until it does (a lost probe is UDP's right).
    await resendUntil(server.waitFor("sonde\n"), () => client.send(port, "sonde\n"));
    const received = server.stdout.match(/rafale/g)?.length ?? 0;
    assert.ok(received > 0 && received <= 100_000, `${received} datagrams printed`);
    client.socket.close();
    server.kill("SIGINT");
    assert.equal((await server.finished()).code, 0);
  });
}

Deno.test("ex2_udp_server.ts replying to a client that has gone (ICMP port unreachable) goes on", async () => {
  const { server, port } = await startServer("exercises/ex2_udp_server.ts");
  await using _ = server;
  for (let k = 0; k < 5; k++) {
    const gone = udpSocket();
    await gone.socket.send(encoder.encode("je pars\n"), gone.to(port));
    gone.socket.close(); // the reply will find a closed port
  }
  await server.waitForCount("Reçu : je pars\n", 5);
  const client = udpSocket();
  await client.send(port, "et moi ?\n");
  assert.equal(await client.receive(server), `${REPLY}et moi ?\n`);
  client.socket.close();
  assert.equal(server.stderr, "");
});

// --- 9. Addresses ------------------------------------------------------------

/**
 * Starts a server on `host`, then runs its client to the end against it.
 * Returns the client's result, and the server still running: the caller
 * waits for the server's lines, then stops it (a UDP server runs until told).
 */
async function pairOn(
  host: string,
  serverFile: string,
  clientFile: string,
  input: string,
  connectTo: string,
  clientArgs: string[] = [],
) {
  const { server, port } = await startServer(serverFile, ["--host", host]);
  try {
    await using client = program(
      clientFile,
      ["--host", connectTo, "--port", String(port), ...clientArgs],
      { stdin: "piped" },
    );
    await client.write(input);
    await client.closeStdin();
    return { client: await client.finished(), server };
  } catch (err) {
    await server[Symbol.asyncDispose]();
    throw err;
  }
}

/** Stops a server that runs until told (SIGTERM, as Ctrl+C), and returns its output. */
async function stop(server: Running) {
  server.kill("SIGTERM");
  const result = await server.finished();
  assert.equal(result.code, 0, server.transcript());
  assert.match(result.stdout, /\nFin du programme\n$/);
  return result;
}

for (const [host, connectTo] of [["::1", "::1"], ["::", "::1"], ["::", "127.0.0.1"]]) {
  Deno.test(`every pair works with the server on ${host} and the client to ${connectTo}`, async () => {
    const v6 = connectTo === "::1";
    const peer = v6 ? /\[::1\]:\d+/ : /127\.0\.0\.1:\d+/;
    {
      const { client, server } = await pairOn(
        host,
        "tcp_server.ts",
        "tcp_client.ts",
        "",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.match(client.stdout, v6 ? /envoyés à \[::1\]:\d+\n/ : /envoyés à 127\.0\.0\.1:\d+\n/);
      // Its one client has gone: the server ends by itself.
      const { code, stdout } = await server.finished();
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`Client connecté : ${peer.source}\\nReçu : abcdefg!\\n`));
    }
    {
      const { client, server } = await pairOn(
        host,
        "udp_server.ts",
        "udp_client.ts",
        "",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      await server.waitFor(new RegExp(`\\[${peer.source}\\] Message reçu: Salut !\\n`));
      await stop(server);
    }
    {
      const { client, server } = await pairOn(
        host,
        "exercises/ex1_tcp_server.ts",
        "exercises/ex1_tcp_client.ts",
        "ipv6 ?\nquit\n",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.equal(client.stdout, `Serveur: ${REPLY}ipv6 ?\nFin de la conversation\n`);
      const { code, stdout } = await server.finished();
      assert.equal(code, 0);
      assert.match(stdout, /\nReçu : ipv6 \?\nFin de la conversation\n$/);
    }
    {
      const { client, server } = await pairOn(
        host,
        "exercises/ex2_udp_server.ts",
        "exercises/ex2_udp_client.ts",
        "ipv6 ?\nquit\n",
        connectTo,
        ["--timeout", UDP_TIMEOUT],
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.equal(client.stdout, `Serveur: ${REPLY}ipv6 ?\nFin du client UDP\n`);
      await server.waitFor(new RegExp(`\\[${peer.source}\\] Reçu : quit\\n`));
      const { stdout } = await stop(server);
      assert.match(stdout, new RegExp(`\\[${peer.source}\\] Reçu : ipv6 \\?\\n`));
    }
  });
}

const SERVERS = [
  "tcp_server.ts",
  "udp_server.ts",
  "exercises/ex1_tcp_server.ts",
  "exercises/ex2_udp_server.ts",
];
const CLIENTS = [
  "tcp_client.ts",
  "udp_client.ts",
  "exercises/ex1_tcp_client.ts",
  "exercises/ex2_udp_client.ts",
];

Deno.test("every program says so in one line when its host does not resolve: exit 1", async () => {
  for (const file of [...SERVERS, ...CLIENTS]) {
    const { code, stdout, stderr } = await runProgram(file, ["--host", "nulle-part.invalid"]);
    assert.equal(code, 1, file);
    assert.equal(stdout, "");
    assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
  }
});

Deno.test("every server refuses an address that is not this machine's: exit 1", async () => {
  for (const file of SERVERS) {
    const { code, stderr } = await runProgram(file, ["--host", "192.0.2.1", "--port", "0"]);
    assert.equal(code, 1, file);
    assert.equal(
      stderr,
      "Erreur: l'adresse 192.0.2.1 n'appartient pas à cette machine (essayez --host 0.0.0.0)\n",
    );
  }
});

// --- 10. Permissions ---------------------------------------------------------

Deno.test("every program runs with only --allow-net, stdin closed, and never prompts", async () => {
  // --no-prompt turns any permission the program would ask for into an error.
  const flags = { denoFlags: ["--allow-net", "--no-prompt"] };
  const pairs: [string, string, string, RegExp][] = [
    ["tcp_server.ts", "tcp_client.ts", "", /Reçu : abcdefg!\n/],
    ["udp_server.ts", "udp_client.ts", "", /Message reçu: Salut !\n/],
    ["exercises/ex1_tcp_server.ts", "exercises/ex1_tcp_client.ts", "", /Fin de la conversation\n/],
    ["exercises/ex2_udp_server.ts", "exercises/ex2_udp_client.ts", "", /Reçu : quit\n/],
  ];
  for (const [serverFile, clientFile, , serverSaw] of pairs) {
    await using server = program(serverFile, ["--port", "0"], flags);
    const [, port] = await server.waitFor(/ port (\d+)\.\.\./);
    const client = await runProgram(clientFile, ["--port", port], flags); // stdin: /dev/null
    assert.equal(client.code, 0, `${clientFile}: ${client.stderr}`);
    assert.equal(client.stderr, "");
    await server.waitFor(serverSaw);
    assert.equal(server.stderr, "");
  }
});

Deno.test("every program without --allow-net, or with --deny-net, names --allow-net: exit 3", async () => {
  for (const file of [...SERVERS, ...CLIENTS]) {
    for (const denoFlags of [[], ["--deny-net"]]) {
      const { code, stdout, stderr } = await runProgram(file, ["--port", "1"], { denoFlags });
      assert.equal(code, 3, `${file} ${denoFlags}`);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `Erreur: accès réseau non autorisé pour ${
          SERVERS.includes(file) ? "écouter sur 0.0.0.0:1" : "joindre 127.0.0.1:1"
        }. Lancez : deno run --allow-net ${file}\n`,
      );
    }
  }
});
