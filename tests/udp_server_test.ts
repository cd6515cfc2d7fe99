import assert from "node:assert/strict";
import { linesOf, Running, runProgram, startServer, testWith } from "./helpers.ts";
import { assertReadyOnDefaultPort } from "./netns.ts";

/** Sends one datagram to the server from a fresh socket, and returns the port it came from. */
async function sendDatagram(port: number, data: string | Uint8Array): Promise<number> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await socket.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  const from = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return from;
}

testWith(["nc"], "udp_server.ts prints what nc -u sends, with the sender's address", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  assert.match(server.stdout, /^Attente de messages UDP sur le port \d+\.\.\.\n/);
  await using nc = new Running("nc", ["-u", "-w1", "127.0.0.1", String(port)], { stdin: "piped" });
  await nc.write("Salut !\n");
  const [, from] = await server.waitFor(/\[127\.0\.0\.1:(\d+)\] Message reçu: Salut !\n/);
  assert.ok(Number(from) > 0);
  nc.kill();
});

testWith(["socat"], "udp_server.ts prints what socat sends over UDP", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  await using socat = new Running("socat", ["-", `UDP:127.0.0.1:${port}`], { stdin: "piped" });
  await socat.write("  bonjour socat  \n");
  await server.waitFor(/\] Message reçu: bonjour socat\n/); // surrounding spaces stripped
  socat.kill();
});

Deno.test("udp_server.ts shows that a datagram longer than --buffer-size was cut", async () => {
  const { server, port } = await startServer("udp_server.ts", ["--buffer-size", "8"]);
  await using _ = server;
  const from = await sendDatagram(port, "0123456789abcdef");
  await server.waitFor(
    `[127.0.0.1:${from}] Message reçu: 01234567 (coupé : datagramme de plus de 8 octets)\n`,
  );
  const exact = await sendDatagram(port, "ABCDEFGH"); // exactly the buffer: not cut
  await server.waitFor(`[127.0.0.1:${exact}] Message reçu: ABCDEFGH\n`);
});

Deno.test("udp_server.ts cuts at the workshop's 1024 bytes by default", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  await sendDatagram(port, "x".repeat(1500));
  const [line] = await server.waitFor(/Message reçu: x+ \(coupé[^\n]*\n/);
  assert.equal(line.match(/x+/)![0].length, 1024);
  assert.match(line, /\(coupé : datagramme de plus de 1024 octets\)/);
});

Deno.test("udp_server.ts replaces invalid UTF-8 and keeps receiving", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  await sendDatagram(port, new Uint8Array([0x41, 0xff, 0xfe, 0x00, 0x42, 0xe2, 0x82]));
  // Bad bytes become U+FFFD; the NUL is shown as \x00.
  await server.waitFor("Message reçu: A\uFFFD\uFFFD\\x00B\uFFFD\n");
  await sendDatagram(port, "après\n");
  await server.waitFor("Message reçu: après\n");
});

testWith(
  ["python3"],
  "udp_server.ts prints what a workshop-style client sends, without newline",
  async () => {
    const { server, port } = await startServer("udp_server.ts");
    await using _ = server;
    // The workshop's client waits for no reply from this server: give it none, it times out.
    await using peer = new Running("python3", [
      "-c",
      `import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"Salut", ("127.0.0.1", ${port}))`,
    ]);
    assert.equal((await peer.finished()).code, 0);
    await server.waitFor("Message reçu: Salut\n");
  },
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`udp_server.ts stops on ${signal}: Fin du programme, exit 0`, async () => {
    const { server } = await startServer("udp_server.ts");
    await using _ = server;
    server.kill(signal);
    const { code, stdout, stderr } = await server.finished();
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.deepEqual(linesOf(stdout).slice(1), ["Fin du programme"]);
  });
}

Deno.test("udp_server.ts on a port already in use: one French line, exit 1", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  const { code, stderr } = await runProgram("udp_server.ts", ["--port", String(port)]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    `Erreur: le port ${port} est déjà utilisé (un autre serveur tourne ? essayez --port 0)\n`,
  );
});

Deno.test("udp_server.ts without --unstable-net names the flag instead of a TypeError: exit 3", async () => {
  // --no-config ignores deno.json, which is what turns the flag on in this folder.
  const { code, stdout, stderr } = await runProgram("udp_server.ts", ["--port", "0"], {
    denoFlags: ["--no-config", "--allow-net"],
  });
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "Erreur: les sockets UDP de Deno demandent --unstable-net. " +
      "Lancez : deno run --allow-net --unstable-net udp_server.ts\n",
  );
});

Deno.test("udp_server.ts without --allow-net names the flag instead of prompting: exit 3", async () => {
  const { code, stderr } = await runProgram("udp_server.ts", [], { denoFlags: [] });
  assert.equal(code, 3);
  assert.equal(
    stderr,
    "Erreur: accès réseau non autorisé pour écouter sur 0.0.0.0:8888. " +
      "Lancez : deno run --allow-net udp_server.ts\n",
  );
});

Deno.test("udp_server.ts prints the workshop's ready line for port 8888 by default", async () => {
  await assertReadyOnDefaultPort(
    "udp_server.ts",
    "Attente de messages UDP sur le port 8888...",
    8888,
  );
});
