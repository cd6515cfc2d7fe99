import assert from "node:assert/strict";
import {
  connect,
  linesOf,
  readToEnd,
  Running,
  runProgram,
  seededRandom,
  startServer,
  testWith,
  workshopPeer,
  writeAll,
} from "./helpers.ts";
import { assertReadyOnDefaultPort } from "./netns.ts";

Deno.test("tcp_server.ts prints the workshop's ready line for port 8888 by default", async () => {
  await assertReadyOnDefaultPort(
    "tcp_server.ts",
    "Serveur TCP en attente de connexion sur le port 8888...",
    8888,
  );
});

testWith(
  ["nc"],
  "tcp_server.ts prints every line that nc sends, then Déconnecté, and exits 0",
  async () => {
    const { server, port } = await startServer("tcp_server.ts");
    await using _ = server;
    await using nc = new Running("nc", ["-N", "127.0.0.1", String(port)], { stdin: "piped" });
    await nc.write("bonjour\nça va ?\r\n");
    await server.waitFor("Reçu : ça va ?");
    await nc.write("dernière ligne sans retour");
    await nc.closeStdin(); // nc -N: end of input sends FIN
    const { code, stdout, stderr } = await server.finished();
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.deepEqual(linesOf(stdout).slice(1), [
      `Client connecté : 127.0.0.1:${stdout.match(/127\.0\.0\.1:(\d+)/)![1]}`,
      "Reçu : bonjour",
      "Reçu : ça va ?",
      "Reçu : dernière ligne sans retour",
      "Déconnecté",
    ]);
  },
);

testWith(["socat"], "tcp_server.ts prints the lines that socat sends", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  await using socat = new Running("socat", ["-", `TCP:127.0.0.1:${port}`], { stdin: "piped" });
  await socat.write("un\ndeux\n");
  await socat.closeStdin();
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\nReçu : un\nReçu : deux\nDéconnecté\n$/);
});

testWith(
  ["python3"],
  "tcp_server.ts prints a message with no newline from a workshop-style client after the quiet time",
  async () => {
    const { server, port } = await startServer("tcp_server.ts");
    await using _ = server;
    // The workshop's client: one send() of "Salut" with no newline, then it waits.
    await using peer = workshopPeer(["tcp-client", "127.0.0.1", String(port), "Salut"], {
      stdin: "piped",
    });
    await peer.waitFor("envoyé: Salut");
    // The connection is still open: only the quiet time can end this message.
    await server.waitFor("Reçu : Salut\n");
    await peer.closeStdin();
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(stdout, /\nReçu : Salut\nDéconnecté\n$/);
  },
);

Deno.test("tcp_server.ts prints 10,000 lines cut at random places once each, in order", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const lines = Array.from({ length: 10_000 }, (_, i) => `ligne ${i} é€😀`);
  const bytes = new TextEncoder().encode(lines.map((l) => `${l}\r\n`).join(""));
  // Cuts: random sizes (seeded), plus cuts forced inside "😀" and between "\r" and "\n".
  const random = seededRandom(8888);
  const cuts = new Set<number>();
  for (let at = 0; at < bytes.length; at += 1 + Math.floor(random() * 300)) cuts.add(at);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0xf0 && random() < 0.2) cuts.add(i + 2); // inside the 4-byte emoji
    if (bytes[i] === 0x0d && random() < 0.2) cuts.add(i + 1); // between \r and \n
  }
  const points = [...cuts, bytes.length].sort((a, b) => a - b);
  const conn = await connect(port, server);
  conn.setNoDelay(true); // send each piece at once, so that the cuts reach the server
  for (let i = 0; i + 1 < points.length; i++) {
    await writeAll(conn, bytes.subarray(points[i], points[i + 1]));
  }
  conn.close();
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  const printed = linesOf(stdout);
  assert.match(printed[1], /^Client connecté : /);
  assert.deepEqual(printed.slice(2, -1), lines.map((l) => `Reçu : ${l}`));
  assert.equal(printed.at(-1), "Déconnecté");
});

Deno.test("tcp_server.ts -k serves two clients at once and tells whose line is whose", async () => {
  const { server, port } = await startServer("tcp_server.ts", ["-k"]);
  await using _ = server;
  const alice = await connect(port, server);
  const bob = await connect(port, server);
  const a = `127.0.0.1:${alice.localAddr.port}`;
  const b = `127.0.0.1:${bob.localAddr.port}`;
  await writeAll(alice, new TextEncoder().encode("je suis alice\n"));
  await writeAll(bob, new TextEncoder().encode("je suis bob\n"));
  await server.waitFor(`[${a}] Reçu : je suis alice`);
  await server.waitFor(`[${b}] Reçu : je suis bob`);
  alice.close();
  await server.waitFor(`[${a}] Déconnecté`);
  // Still serving bob, and still accepting.
  await writeAll(bob, new TextEncoder().encode("encore là\n"));
  await server.waitFor(`[${b}] Reçu : encore là`);
  const carol = await connect(port, server);
  await server.waitFor(`[127.0.0.1:${carol.localAddr.port}] Client connecté\n`);
  bob.close();
  carol.close();
  await server.waitFor(`[${b}] Déconnecté`);
  server.kill("SIGINT");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /Fin du programme\n$/);
});

Deno.test("tcp_server.ts without -k refuses a second client once the first is accepted", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const first = await connect(port, server);
  await server.waitFor("Client connecté : ");
  await assert.rejects(connect(port, server), Deno.errors.ConnectionRefused);
  first.close();
  assert.equal((await server.finished()).code, 0);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`tcp_server.ts -k stops on ${signal} with a client connected: Fin du programme, exit 0`, async () => {
    const { server, port } = await startServer("tcp_server.ts", ["-k"]);
    await using _ = server;
    const conn = await connect(port, server);
    // With -k the address is the line's prefix, and is not repeated inside it.
    await server.waitFor(`[127.0.0.1:${conn.localAddr.port}] Client connecté\n`);
    server.kill(signal);
    const { code, stdout, stderr } = await server.finished();
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.match(stdout, /Fin du programme\n$/);
    // The server closed our connection: we read the end of the stream.
    assert.equal(await readToEnd(conn, server), "");
    conn.close();
  });
}

Deno.test("tcp_server.ts on a port already in use: one French line, exit 1", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const { code, stdout, stderr } = await runProgram("tcp_server.ts", ["--port", String(port)]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `Erreur: le port ${port} est déjà utilisé (un autre serveur tourne ? essayez --port 0)\n`,
  );
});

Deno.test("tcp_server.ts on an address that is not this machine's: one French line, exit 1", async () => {
  const { code, stderr } = await runProgram("tcp_server.ts", [
    "--host",
    "192.0.2.1",
    "--port",
    "0",
  ]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    "Erreur: l'adresse 192.0.2.1 n'appartient pas à cette machine (essayez --host 0.0.0.0)\n",
  );
});

Deno.test("tcp_server.ts with a host that does not resolve: one French line, exit 1", async () => {
  const { code, stderr } = await runProgram("tcp_server.ts", ["--host", "nulle-part.invalid"]);
  assert.equal(code, 1);
  assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
});

Deno.test("tcp_server.ts without --allow-net names the flag instead of prompting: exit 3", async () => {
  for (const denoFlags of [[], ["--deny-net"], ["--no-prompt"]]) {
    const { code, stdout, stderr } = await runProgram("tcp_server.ts", [], { denoFlags });
    assert.equal(code, 3, denoFlags.join(" "));
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      "Erreur: accès réseau non autorisé pour écouter sur 0.0.0.0:8888. " +
        "Lancez : deno run --allow-net tcp_server.ts\n",
    );
  }
});
