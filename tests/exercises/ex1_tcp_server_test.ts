import assert from "node:assert/strict";
import {
  connect,
  Lines,
  linesOf,
  program,
  REPLY,
  Running,
  runProgram,
  startServer,
  testWith,
  workshopPeer,
  writeAll,
} from "../helpers.ts";
import { assertReadyOnDefaultPort } from "../netns.ts";

const SERVER = "exercises/ex1_tcp_server.ts";
const encoder = new TextEncoder();

Deno.test("ex1_tcp_server.ts prints the workshop's ready line for port 5000 by default", async () => {
  await assertReadyOnDefaultPort(
    SERVER,
    "Serveur TCP en attente de connexion sur le port 5000...",
    5000,
    "Fin de la conversation",
  );
});

Deno.test("ex1_tcp_server.ts talks to its own client", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  await using client = program("exercises/ex1_tcp_client.ts", ["--port", String(port)], {
    stdin: "piped",
  });
  await client.write("bonjour\nça va ?\nquit\n");
  const result = await client.finished();
  assert.equal(result.code, 0);
  assert.equal(
    result.stdout,
    `Serveur: ${REPLY}bonjour\nServeur: ${REPLY}ça va ?\nFin de la conversation\n`,
  );
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.deepEqual(linesOf(stdout).slice(2), [
    "Reçu : bonjour",
    "Reçu : ça va ?",
    "Reçu : quit",
    "Fin de la conversation",
  ]);
});

testWith(["nc"], "ex1_tcp_server.ts answers nc line by line, and quit gets no reply", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  await using nc = new Running("nc", ["-N", "127.0.0.1", String(port)], { stdin: "piped" });
  await nc.write("bonjour\n");
  await nc.waitFor(`${REPLY}bonjour\n`);
  await nc.write("\nquit\n");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\nReçu : bonjour\nReçu : \nReçu : quit\nFin de la conversation\n$/);
  assert.equal((await nc.finished()).stdout, `${REPLY}bonjour\n${REPLY}\n`);
});

testWith(
  ["socat"],
  "ex1_tcp_server.ts answers socat, and ends the conversation when it closes",
  async () => {
    const { server, port } = await startServer(SERVER);
    await using _ = server;
    await using socat = new Running("socat", ["-", `TCP:127.0.0.1:${port}`], { stdin: "piped" });
    await socat.write("un\r\ndeux\r\n");
    await socat.waitFor(`${REPLY}deux\n`);
    await socat.closeStdin(); // socat sends FIN: the client closed, no "quit"
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(stdout, /\nReçu : un\nReçu : deux\nFin de la conversation\n$/);
    assert.equal((await socat.finished()).stdout, `${REPLY}un\n${REPLY}deux\n`);
  },
);

testWith(
  ["python3"],
  "ex1_tcp_server.ts answers a workshop-style client with no newline, bytes as expected",
  async () => {
    const { server, port } = await startServer(SERVER);
    await using _ = server;
    await using peer = workshopPeer([
      "tcp-client",
      "127.0.0.1",
      String(port),
      "--replies",
      "bonjour",
      "quit",
    ], { stdin: "piped" });
    await peer.waitFor("envoyé: quit\n");
    await server.waitFor("Fin de la conversation\n");
    await peer.closeStdin();
    const { stdout } = await peer.finished();
    // One recv(1024) got exactly the reply, with no newline added.
    assert.equal(stdout, `envoyé: bonjour\nServeur: ${REPLY}bonjour\nenvoyé: quit\n`);
    const result = await server.finished();
    assert.equal(result.code, 0);
    assert.match(result.stdout, /\nReçu : bonjour\nReçu : quit\nFin de la conversation\n$/);
  },
);

Deno.test("ex1_tcp_server.ts answers invalid UTF-8 and empty lines, and keeps going", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const conn = await connect(port, server);
  await writeAll(conn, new Uint8Array([0xff, 0x61, 0x00, 0xc3, 0x0a, 0x0a]));
  await writeAll(conn, encoder.encode("encore\nquit\n"));
  const replies = await new Lines(conn, server).rest();
  conn.close();
  // Bad bytes become U+FFFD; the NUL is shown as \x00, in the reply too.
  assert.deepEqual(replies, [`${REPLY}\uFFFDa\\x00\uFFFD`, REPLY, `${REPLY}encore`]);
  assert.equal((await server.finished()).code, 0);
});

Deno.test("ex1_tcp_server.ts -k gives each of 50 concurrent clients exactly its own replies", async () => {
  const { server, port } = await startServer(SERVER, ["-k"]);
  await using _ = server;
  const clients = Array.from({ length: 50 }, async (_, i) => {
    const conn = await connect(port, server);
    const replies = new Lines(conn, server);
    const got: (string | null)[] = [];
    for (let j = 0; j < 3; j++) {
      await writeAll(conn, encoder.encode(`client ${i} message ${j}\n`));
      got.push(await replies.next());
    }
    await writeAll(conn, encoder.encode("quit\n"));
    assert.equal(await replies.next(), null, "the server closes after quit");
    conn.close();
    assert.deepEqual(got, [0, 1, 2].map((j) => `${REPLY}client ${i} message ${j}`));
  });
  await Promise.all(clients);
  // A client sees the end of its stream once the server has printed its last
  // line, but that line may still be on its way to us: wait for all 50.
  await server.waitForCount("] Fin de la conversation\n", 50);
  assert.equal(server.stderr, "");
  server.kill("SIGTERM");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\nFin de la conversation\n$/); // the course's end line on Ctrl+C
});

Deno.test("ex1_tcp_server.ts on a port already in use: one French line, exit 1", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const { code, stderr } = await runProgram(SERVER, ["--port", String(port)]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `Erreur: le port ${port} est déjà utilisé (un autre serveur tourne ? essayez --port 0)\n`,
  );
});

Deno.test("ex1_tcp_server.ts answers a bad flag with one French line and exit code 2", async () => {
  const { code, stderr } = await runProgram(SERVER, ["--port", "-3"]);
  assert.equal(code, 2);
  assert.equal(
    stderr,
    "Erreur: l'option --port attend une valeur PORT (voir : deno run --allow-net exercises/ex1_tcp_server.ts --help)\n",
  );
});
