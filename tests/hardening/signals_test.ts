/**
 * signals_test.ts -- Ctrl+C and SIGTERM with clients connected, a second
 * Ctrl+C while stopping, and a server that vanishes mid-conversation.
 * Each case starts the real programs.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  connect,
  program,
  readToEnd,
  REPLY,
  startServer,
  testWith,
  UDP_TIMEOUT,
  workshopPeer,
  writeAll,
} from "../helpers.ts";

const encoder = new TextEncoder();

// --- Signals -------------------------------------------------------------------

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

// --- The server vanishes mid-conversation --------------------------------------

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
