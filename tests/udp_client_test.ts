import assert from "node:assert/strict";
import { closedPort, listeningTool, runProgram, testWith, udpSocket } from "./helpers.ts";
import { testOnPrivateHost } from "./netns.ts";

testWith(["nc"], "udp_client.ts sends the workshop's datagram, which nc -ul receives", async () => {
  const { tool: nc, port } = await listeningTool(
    "nc",
    ["-n", "-v", "-u", "-l", "127.0.0.1", "0"],
    /Bound on \S+ (\d+)/,
  );
  await using _ = nc;
  const { code, stdout, stderr } = await runProgram("udp_client.ts", ["--port", String(port)]);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(stdout, `Message envoyé à 127.0.0.1:${port} (8 octets)\n`);
  await nc.waitFor("Salut !\n");
  assert.equal(nc.stdout, "Salut !\n");
});

// socat cannot tell which port it got: it listens on the workshop's port, on a host of its own.
testOnPrivateHost(
  ["socat"],
  "udp_client.ts sends --message, which socat receives as one datagram",
  async (host) => {
    const socat = host.start("socat", ["-d", "-d", "UDP-RECV:8888,bind=127.0.0.1", "STDOUT"]);
    await socat.waitFor("starting data transfer loop", "stderr");
    const client = await host.program("udp_client.ts", ["--message", "héhé"]).finished();
    assert.equal(client.code, 0, client.stderr);
    await socat.waitFor("héhé");
    assert.equal(socat.stdout, "héhé");
  },
);

testWith(
  ["python3"],
  "udp_client.ts succeeds even when no one listens: UDP cannot know",
  async () => {
    const { holder, port } = await closedPort("udp");
    await using _ = holder;
    const { code, stdout, stderr } = await runProgram("udp_client.ts", ["--port", String(port)]);
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.equal(stdout, `Message envoyé à 127.0.0.1:${port} (8 octets)\n`);
  },
);

Deno.test("udp_client.ts sends to IPv6 ::1", async () => {
  const server = udpSocket("::1");
  const client = await runProgram("udp_client.ts", [
    "--host",
    "::1",
    "--port",
    String(server.port),
  ]);
  assert.equal(client.code, 0);
  assert.equal(client.stdout, `Message envoyé à [::1]:${server.port} (8 octets)\n`);
  assert.equal(await server.receive(), "Salut !\n");
  server.socket.close();
});

Deno.test("udp_client.ts with a host that does not resolve: one French line, exit 1", async () => {
  const { code, stdout, stderr } = await runProgram("udp_client.ts", [
    "--host",
    "nulle-part.invalid",
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
});

Deno.test("udp_client.ts without --unstable-net names the flag: exit 3", async () => {
  const { code, stderr } = await runProgram("udp_client.ts", [], {
    denoFlags: ["--no-config", "--allow-net"],
  });
  assert.equal(code, 3);
  assert.match(stderr, /^Erreur: les sockets UDP de Deno demandent --unstable-net\./);
});

Deno.test("udp_client.ts without --allow-net names the flag instead of prompting: exit 3", async () => {
  const { code, stderr } = await runProgram("udp_client.ts", [], { denoFlags: ["--no-prompt"] });
  assert.equal(code, 3);
  assert.equal(
    stderr,
    "Erreur: accès réseau non autorisé pour joindre 127.0.0.1:8888. " +
      "Lancez : deno run --allow-net udp_client.ts\n",
  );
});
