import assert from "node:assert/strict";
import {
  closedPort,
  guard,
  listeningTool,
  program,
  REPLY,
  runProgram,
  startServer,
  Terminal,
  testWith,
  workshopPeer,
  writeAll,
} from "../helpers.ts";

const CLIENT = "exercises/ex1_tcp_client.ts";
const encoder = new TextEncoder();

Deno.test("ex1_tcp_client.ts with piped stdin prints both replies, then Fin de la conversation", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
  await using _ = server;
  await using client = program(CLIENT, ["--port", String(port)], { stdin: "piped" });
  await client.write("a\nb\nquit\n");
  const { code, stdout, stderr } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stderr, "");
  // No prompt on a pipe: the transcript is the replies.
  assert.equal(stdout, `Serveur: ${REPLY}a\nServeur: ${REPLY}b\nFin de la conversation\n`);
});

Deno.test("ex1_tcp_client.ts treats the end of input as quit", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
  await using _ = server;
  await using client = program(CLIENT, ["--port", String(port)], { stdin: "piped" });
  await client.write("seul\n");
  await client.closeStdin();
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, `Serveur: ${REPLY}seul\nFin de la conversation\n`);
  // The server saw "quit": its conversation ended without a reset.
  const result = await server.finished();
  assert.equal(result.code, 0);
  assert.match(result.stdout, /\nReçu : seul\nReçu : quit\nFin de la conversation\n$/);
});

testWith(
  ["nc"],
  "ex1_tcp_client.ts talks to nc -l typing the replies, and says Déconnecté when it closes",
  async () => {
    const { tool: nc, port } = await listeningTool(
      "nc",
      ["-n", "-v", "-N", "-l", "127.0.0.1", "0"],
      /Listening on \S+ (\d+)/,
      { stdin: "piped" },
    );
    await using _ = nc;
    await using client = program(CLIENT, ["--port", String(port)], { stdin: "piped" });
    await client.write("bonjour nc\n");
    await nc.waitFor("bonjour nc\n");
    await nc.write("salut client\n");
    await client.waitFor("Serveur: salut client\n");
    await client.write("encore\n");
    await nc.waitFor("encore\n");
    await nc.closeStdin(); // nc -N: the server side closes
    const { code, stdout } = await client.finished();
    assert.equal(code, 0);
    assert.equal(stdout, "Serveur: salut client\nDéconnecté\n");
  },
);

testWith(["socat"], "ex1_tcp_client.ts talks to a scripted socat server", async () => {
  const { tool: socat, port } = await listeningTool("socat", [
    "-d",
    "-d",
    "TCP-LISTEN:0,bind=127.0.0.1",
    `SYSTEM:while read -r l; do echo "écho: $l"; done`,
  ], /listening on AF=2 127\.0\.0\.1:(\d+)/);
  await using _ = socat;
  await using client = program(CLIENT, ["--port", String(port)], { stdin: "piped" });
  await client.write("un\ndeux\nquit\n");
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, "Serveur: écho: un\nServeur: écho: deux\nFin de la conversation\n");
});

testWith(
  ["python3"],
  "ex1_tcp_client.ts shows a workshop-style reply with no newline after the quiet time",
  async () => {
    await using peer = workshopPeer(["tcp-server", "0", "--replies"]);
    const [, port] = await peer.waitFor(/port (\d+)/);
    await using client = program(CLIENT, ["--port", port], { stdin: "piped" });
    await client.write("a\nb\nquit\n");
    const { code, stdout } = await client.finished();
    assert.equal(code, 0);
    assert.equal(stdout, `Serveur: ${REPLY}a\nServeur: ${REPLY}b\nFin de la conversation\n`);
    assert.match((await peer.finished()).stdout, /Reçu : a\nReçu : b\nDéconnecté\n$/);
  },
);

Deno.test("ex1_tcp_client.ts prints a reply cut across two reads once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = program(CLIENT, ["--port", String(listener.addr.port)], { stdin: "piped" });
  const conn = await guard(listener.accept(), "connection", client);
  conn.setNoDelay(true);
  await client.write("x\nquit\n");
  await guard(conn.read(new Uint8Array(1024)), "request", client); // the first bytes of "x\n"
  const reply = encoder.encode(`${REPLY}x€\n`);
  const cut = reply.length - 3; // inside the "€"
  await writeAll(conn, reply.subarray(0, cut));
  await writeAll(conn, reply.subarray(cut));
  const { code, stdout } = await client.finished();
  conn.close();
  listener.close();
  assert.equal(code, 0);
  assert.equal(stdout, `Serveur: ${REPLY}x€\nFin de la conversation\n`);
});

testWith(
  ["python3"],
  "ex1_tcp_client.ts with no server: Erreur: serveur indisponible, exit 1",
  async () => {
    const { holder, port } = await closedPort("tcp");
    await using _ = holder;
    const { code, stdout, stderr } = await runProgram(CLIENT, ["--port", String(port)]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(stderr, "Erreur: serveur indisponible\n");
  },
);

testWith(
  ["tmux"],
  "ex1_tcp_client.ts on a terminal shows >>>, answers a typed line, ends on quit",
  async () => {
    const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
    await using _ = server;
    await using terminal = await Terminal.start(`deno run --allow-net ${CLIENT} --port ${port}`);
    await terminal.waitFor(/^>>>$/m); // tmux drops the trailing space
    await terminal.keys("bonjour terminal", "Enter");
    await terminal.waitFor(
      /Serveur: Bonjour client, j'ai bien reçu ton message : bonjour terminal\n>>>$/,
    );
    await terminal.keys("quit", "Enter");
    assert.equal(await terminal.exitStatus(), 0);
    assert.match(await terminal.screen(), /^>>> quit\nFin de la conversation$/m);
  },
);

testWith(["tmux"], "ex1_tcp_client.ts on a terminal ends cleanly on Ctrl+D", async () => {
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts", ["-k"]);
  await using _ = server;
  await using terminal = await Terminal.start(`deno run --allow-net ${CLIENT} --port ${port}`);
  await terminal.waitFor(/^>>>$/m); // tmux drops the trailing space
  await terminal.keys("C-d");
  assert.equal(await terminal.exitStatus(), 0);
  assert.match(await terminal.screen(), /^>>>\nFin de la conversation$/m);
  await server.waitFor("] Fin de la conversation\n");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`ex1_tcp_client.ts on ${signal}: Fin de la conversation, exit 0`, async () => {
    const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
    await using _ = server;
    await using client = program(CLIENT, ["--port", String(port)], { stdin: "piped" });
    await client.write("bonjour\n");
    await client.waitFor(`Serveur: ${REPLY}bonjour\n`);
    client.kill(signal);
    // Its stdin stays open, as a terminal's would: the signal alone must end it.
    await guard(client.child.status, `the end after ${signal}`, client);
    const { code, stdout, stderr } = await client.finished();
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.equal(stdout, `Serveur: ${REPLY}bonjour\nFin de la conversation\n`);
  });
}
