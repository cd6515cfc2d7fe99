import assert from "node:assert/strict";
import {
  program,
  REPLY,
  Running,
  runProgram,
  startServer,
  testWith,
  UDP_TIMEOUT,
  udpSocket,
  workshopPeer,
} from "../helpers.ts";
import { assertReadyOnDefaultPort } from "../netns.ts";

const SERVER = "exercises/ex2_udp_server.ts";

Deno.test("ex2_udp_server.ts prints the workshop's ready line for port 5000 by default", async () => {
  await assertReadyOnDefaultPort(
    SERVER,
    "Serveur UDP en écoute de messages sur le port 5000...",
    5000,
    "Fin du serveur UDP",
  );
});

Deno.test("ex2_udp_server.ts talks to its own client", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  await using client = program(
    "exercises/ex2_udp_client.ts",
    ["--port", String(port), "--timeout", UDP_TIMEOUT],
    { stdin: "piped" },
  );
  await client.write("bonjour\nça va ?\nquit\n");
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, `Serveur: ${REPLY}bonjour\nServeur: ${REPLY}ça va ?\nFin du client UDP\n`);
  await server.waitFor(/\] Reçu : quit\n/);
  assert.match(server.stdout, /\] Reçu : bonjour\n.*\] Reçu : ça va \?\n/s);
});

testWith(["nc"], "ex2_udp_server.ts answers nc -u, with a newline since nc sent one", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  await using nc = new Running("nc", ["-u", "127.0.0.1", String(port)], { stdin: "piped" });
  await nc.write("salut nc\n");
  await nc.waitFor(`${REPLY}salut nc\n`);
  await server.waitFor(/\[127\.0\.0\.1:\d+\] Reçu : salut nc\n/);
  nc.kill();
});

testWith(["socat"], "ex2_udp_server.ts answers socat over UDP", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  await using socat = new Running("socat", ["-", `UDP:127.0.0.1:${port}`], { stdin: "piped" });
  await socat.write("salut socat\n");
  await socat.waitFor(`${REPLY}salut socat\n`);
  socat.kill();
});

testWith(
  ["python3"],
  "ex2_udp_server.ts answers a workshop-style client with the exact bytes it expects",
  async () => {
    const { server, port } = await startServer(SERVER);
    await using _ = server;
    await using peer = workshopPeer(["udp-client", "127.0.0.1", String(port), "bonjour", "encore"]);
    const { code, stdout } = await peer.finished();
    assert.equal(code, 0);
    // No newline was sent, none comes back.
    assert.equal(stdout, `Serveur: ${REPLY}bonjour\nServeur: ${REPLY}encore\n`);
  },
);

Deno.test("ex2_udp_server.ts answers empty and invalid UTF-8 datagrams, and keeps serving", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const client = udpSocket();
  await client.send(port, new Uint8Array(0));
  assert.equal(await client.receive(server), REPLY);
  await client.send(port, new Uint8Array([0xff, 0x41, 0xe2, 0x82, 0x0a]));
  assert.equal(await client.receive(server), `${REPLY}\uFFFDA\uFFFD\n`);
  await client.send(port, "\n");
  assert.equal(await client.receive(server), `${REPLY}\n`);
  client.socket.close();
  await server.waitFor(`[127.0.0.1:${client.port}] Reçu : \uFFFDA\uFFFD\n`);
});

Deno.test("ex2_udp_server.ts answers each client at its own address", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const alice = udpSocket();
  const bob = udpSocket();
  await alice.send(port, "je suis alice\n");
  await bob.send(port, "je suis bob\n");
  assert.equal(await bob.receive(server), `${REPLY}je suis bob\n`);
  assert.equal(await alice.receive(server), `${REPLY}je suis alice\n`);
  alice.socket.close();
  bob.socket.close();
});

Deno.test("ex2_udp_server.ts shows a datagram cut at --buffer-size, and answers what it kept", async () => {
  const { server, port } = await startServer(SERVER, ["--buffer-size", "4"]);
  await using _ = server;
  const client = udpSocket();
  await client.send(port, "abcdefgh");
  assert.equal(await client.receive(server), `${REPLY}abcd`);
  await server.waitFor(`Reçu : abcd (coupé : datagramme de plus de 4 octets)\n`);
  client.socket.close();
});

Deno.test("ex2_udp_server.ts stops on SIGINT: Fin du serveur UDP, exit 0", async () => {
  const { server } = await startServer(SERVER);
  await using _ = server;
  server.kill("SIGINT");
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\nFin du serveur UDP\n$/);
});

Deno.test("ex2_udp_server.ts without --unstable-net names the flag: exit 3", async () => {
  const { code, stderr } = await runProgram(SERVER, [], {
    denoFlags: ["--no-config", "--allow-net"],
  });
  assert.equal(code, 3);
  assert.equal(
    stderr,
    "Erreur: les sockets UDP de Deno demandent --unstable-net. " +
      "Lancez : deno run --allow-net --unstable-net exercises/ex2_udp_server.ts\n",
  );
});
