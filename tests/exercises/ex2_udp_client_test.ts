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
  UDP_TIMEOUT,
  workshopPeer,
} from "../helpers.ts";
import { testOnPrivateHost } from "../netns.ts";

const CLIENT = "exercises/ex2_udp_client.ts";
const encoder = new TextEncoder();

Deno.test("ex2_udp_client.ts with piped stdin prints both replies, then Fin du client UDP", async () => {
  const { server, port } = await startServer("exercises/ex2_udp_server.ts");
  await using _ = server;
  await using client = program(CLIENT, ["--port", String(port), "--timeout", UDP_TIMEOUT], {
    stdin: "piped",
  });
  await client.write("a\nb\nquit\n");
  const { code, stdout, stderr } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(stdout, `Serveur: ${REPLY}a\nServeur: ${REPLY}b\nFin du client UDP\n`);
});

testWith(
  ["python3"],
  "ex2_udp_client.ts with no server says so after --timeout, then exits cleanly on quit",
  async () => {
    const { holder, port } = await closedPort("udp");
    await using _ = holder;
    await using client = program(CLIENT, ["--port", String(port), "--timeout", "0.5"], {
      stdin: "piped",
    });
    await client.write("personne ?\n");
    await client.waitFor("Pas de réponse");
    await client.write("quit\n");
    const { code, stdout } = await client.finished();
    assert.equal(code, 0);
    assert.equal(
      stdout,
      "Pas de réponse du serveur après 0,5 s (UDP ne garantit pas la livraison)\nFin du client UDP\n",
    );
  },
);

Deno.test("ex2_udp_client.ts treats the end of input as quit", async () => {
  const { server, port } = await startServer("exercises/ex2_udp_server.ts");
  await using _ = server;
  await using client = program(CLIENT, ["--port", String(port), "--timeout", UDP_TIMEOUT], {
    stdin: "piped",
  });
  await client.write("seul\n");
  await client.closeStdin();
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, `Serveur: ${REPLY}seul\nFin du client UDP\n`);
  await server.waitFor(/\] Reçu : quit\n/); // "quit" was sent
});

Deno.test("ex2_udp_client.ts ignores a datagram from a stranger's port", async () => {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const stranger = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (server.addr as Deno.NetAddr).port;
  await using client = program(CLIENT, ["--port", String(port), "--timeout", UDP_TIMEOUT], {
    stdin: "piped",
  });
  await client.write("a\n");
  const [request, from] = await guard(server.receive(), "request", client);
  assert.equal(new TextDecoder().decode(request), "a\n");
  // The stranger answers first: the client must not take it for the server's reply.
  await stranger.send(encoder.encode("intrus\n"), from);
  await server.send(encoder.encode("vraie réponse\n"), from);
  await client.waitFor("Serveur: vraie réponse\n");
  await client.write("quit\n");
  const { code, stdout } = await client.finished();
  server.close();
  stranger.close();
  assert.equal(code, 0);
  assert.equal(stdout, "Serveur: vraie réponse\nFin du client UDP\n");
});

testWith(["nc"], "ex2_udp_client.ts talks to nc -u -l typing the replies", async () => {
  const { tool: nc, port } = await listeningTool(
    "nc",
    ["-n", "-v", "-u", "-l", "127.0.0.1", "0"],
    /Bound on \S+ (\d+)/,
    { stdin: "piped" },
  );
  await using _ = nc;
  await using client = program(CLIENT, ["--port", String(port), "--timeout", UDP_TIMEOUT], {
    stdin: "piped",
  });
  await client.write("bonjour nc\n");
  await nc.waitFor("bonjour nc\n");
  await nc.write("salut client\n");
  await client.waitFor("Serveur: salut client\n");
  await client.write("quit\n");
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, "Serveur: salut client\nFin du client UDP\n");
  await nc.waitFor("quit\n");
  nc.kill();
});

// socat cannot tell which port it got: it listens on the workshop's port, on a host of its own.
testOnPrivateHost(
  ["socat"],
  "ex2_udp_client.ts talks to a scripted socat UDP server",
  async (host) => {
    const socat = host.start("socat", [
      "-d",
      "-d",
      "UDP-RECVFROM:5000,bind=127.0.0.1,fork",
      `SYSTEM:read -r l; echo "écho: $l"`,
    ]);
    await socat.waitFor("receiving on", "stderr");
    const client = host.program(CLIENT, ["--timeout", UDP_TIMEOUT], "piped");
    await client.write("un\ndeux\nquit\n");
    const { code, stdout } = await client.finished();
    assert.equal(code, 0);
    assert.equal(stdout, "Serveur: écho: un\nServeur: écho: deux\nFin du client UDP\n");
  },
);

testWith(
  ["python3"],
  "ex2_udp_client.ts talks to a workshop-style server that replies with no newline",
  async () => {
    await using peer = workshopPeer(["udp-server", "0"]);
    const [, port] = await peer.waitFor(/port (\d+)/);
    await using client = program(CLIENT, ["--port", port, "--timeout", UDP_TIMEOUT], {
      stdin: "piped",
    });
    await client.write("a\nquit\n");
    const { code, stdout } = await client.finished();
    assert.equal(code, 0);
    assert.equal(stdout, `Serveur: ${REPLY}a\nFin du client UDP\n`);
    await peer.waitFor("Reçu : a\n");
  },
);

Deno.test("ex2_udp_client.ts with a host that does not resolve: one French line, exit 1", async () => {
  const { code, stderr } = await runProgram(CLIENT, ["--host", "nulle-part.invalid"]);
  assert.equal(code, 1);
  assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
});

Deno.test("ex2_udp_client.ts without --allow-net names the flag instead of prompting: exit 3", async () => {
  const { code, stderr } = await runProgram(CLIENT, [], { denoFlags: [] });
  assert.equal(code, 3);
  assert.equal(
    stderr,
    "Erreur: accès réseau non autorisé pour joindre 127.0.0.1:5000. " +
      "Lancez : deno run --allow-net exercises/ex2_udp_client.ts\n",
  );
});

testWith(
  ["tmux"],
  "ex2_udp_client.ts on a terminal shows >>>, answers a typed line, ends on quit and Ctrl+D",
  async () => {
    const { server, port } = await startServer("exercises/ex2_udp_server.ts");
    await using _ = server;
    for (const ending of [["quit", "Enter"], ["C-d"]]) {
      await using terminal = await Terminal.start(
        `deno run --allow-net ${CLIENT} --port ${port} --timeout ${UDP_TIMEOUT}`,
      );
      await terminal.waitFor(/^>>>$/m); // tmux drops the trailing space
      await terminal.keys("bonjour terminal", "Enter");
      await terminal.waitFor(
        /Serveur: Bonjour client, j'ai bien reçu ton message : bonjour terminal\n>>>$/,
      );
      await terminal.keys(...ending);
      assert.equal(await terminal.exitStatus(), 0);
      assert.match(await terminal.screen(), /^>>>( quit)?\nFin du client UDP$/m);
    }
  },
);

Deno.test("ex2_udp_client.ts drops a reply that came after its time limit: the next answer is the right one", async () => {
  // A server of the test's own, to choose when each reply leaves.
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (server.addr as Deno.NetAddr).port;
  // The time limit is long, so that the answer to "deux" is never late on a busy machine.
  await using client = program(CLIENT, ["--port", String(port), "--timeout", UDP_TIMEOUT], {
    stdin: "piped",
  });
  const next = () => guard(server.receive(), "a datagram from the client", client);
  await client.write("un\n");
  const [first, from] = await next();
  assert.equal(new TextDecoder().decode(first), "un\n");
  await client.waitFor("Pas de réponse du serveur");
  // Too late: the client has given up on "un". On loopback the datagram is in the
  // client's socket as soon as send() returns, before the next line is typed.
  await server.send(encoder.encode("réponse à un\n"), from);
  await client.write("deux\n");
  const [second] = await next();
  assert.equal(new TextDecoder().decode(second), "deux\n");
  await server.send(encoder.encode("réponse à deux\n"), from);
  await client.waitFor("Serveur: réponse à deux\n");
  await client.write("quit\n");
  await next(); // "quit"
  const { code, stdout } = await client.finished();
  server.close();
  assert.equal(code, 0);
  assert.doesNotMatch(stdout, /réponse à un/);
  assert.match(stdout, /\nServeur: réponse à deux\nFin du client UDP\n$/);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`ex2_udp_client.ts on ${signal}: Fin du client UDP, exit 0`, async () => {
    const { server, port } = await startServer("exercises/ex2_udp_server.ts");
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
    assert.equal(stdout, `Serveur: ${REPLY}bonjour\nFin du client UDP\n`);
  });
}
