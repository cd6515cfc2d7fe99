import assert from "node:assert/strict";
/**
 * udp_abuse_test.ts -- a UDP server that answers can be turned against itself
 * or others by datagrams with a forged source address. ex2_udp_server.ts must
 * not answer itself, another reply, or port 0, must rate-limit each source,
 * and its replies must never be bigger than the sentence plus the request.
 *
 * @module
 */
import { REPLY, startServer, udpSocket } from "../helpers.ts";
import { SERVER_IP, testTwoHosts } from "../netns.ts";

const SERVER = "exercises/ex2_udp_server.ts";
const encoder = new TextEncoder();

Deno.test("ex2_udp_server.ts answers 1024 bytes of 0xFF with the sentence and those very bytes", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const client = udpSocket();
  const request = new Uint8Array(1024).fill(0xff);
  await client.socket.send(request, client.to(port));
  const reply = await client.receiveWithin(20_000);
  assert.ok(reply !== null, server.transcript());
  const head = encoder.encode(REPLY);
  assert.equal(reply.length, head.length + request.length, "not re-encoded: no U+FFFD in it");
  assert.deepEqual(reply.subarray(head.length), request);
  client.socket.close();
  server.kill("SIGINT");
  await server.finished();
});

Deno.test("ex2_udp_server.ts does not answer a datagram that is itself a reply", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const client = udpSocket();
  await client.socket.send(encoder.encode(`${REPLY}ping\n`), client.to(port));
  await server.waitFor(`Reçu : ${REPLY}ping\n`);
  await client.socket.send(encoder.encode("sonde\n"), client.to(port));
  // Datagrams from one socket to another on loopback keep their order: had the
  // first been answered, its reply would come first.
  const first = await client.receiveWithin(20_000);
  assert.equal(new TextDecoder().decode(first ?? new Uint8Array()), `${REPLY}sonde\n`);
  client.socket.close();
  server.kill("SIGINT");
  await server.finished();
});

Deno.test("ex2_udp_server.ts answers one source at most about 200 times a second, and says so", async () => {
  const { server, port } = await startServer(SERVER);
  await using _ = server;
  const client = udpSocket();
  const started = Date.now();
  const total = 3000;
  for (let k = 0; k < total; k++) {
    await client.socket.send(encoder.encode("flot\n"), client.to(port));
  }
  await server.waitFor("protection contre les inondations", "stderr");
  let replies = 0;
  while (await client.receiveWithin(1000) !== null) replies++;
  const seconds = (Date.now() - started) / 1000;
  // The allowance: 400 at once, then 200 a second (a bound computed from the time the
  // test took, so that a slow machine cannot make it fail).
  assert.ok(replies <= 400 + 200 * seconds + 10, `${replies} replies in ${seconds} s`);
  assert.ok(replies < total, `${replies} replies to ${total} datagrams`);
  client.socket.close();
  server.kill("SIGINT");
  await server.finished();
});

/** Python: one UDP datagram with a forged source address, through a raw socket (root only). */
const SPOOF = `
import socket, struct, sys
src, sport, dst, dport, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()
udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, socket.IPPROTO_UDP, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + udp, (dst, 0))
print("sent", flush=True)
`;

testTwoHosts(
  "ex2_udp_server.ts does not answer datagrams forged with its own address or port 0",
  async (hosts) => {
    const server = hosts.program("server", SERVER);
    await server.waitFor("sur le port 5000...\n");
    for (const [src, sport] of [["127.0.0.1", 5000], [SERVER_IP, 5000], ["10.231.0.9", 0]]) {
      const dst = src === "127.0.0.1" ? "127.0.0.1" : SERVER_IP;
      const spoof = hosts.start("server", "python3", [
        "-c",
        SPOOF,
        String(src),
        String(sport),
        dst,
        "5000",
        `faux ${src}`,
      ]);
      const spoofed = await spoof.finished();
      assert.equal(spoofed.code, 0, spoofed.stderr);
      await server.waitFor(`Reçu : faux ${src}\n`);
    }
    // A real client still gets its answer; nothing was answered before it.
    const client = hosts.start("client", "python3", [
      "-c",
      `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(20)
s.sendto(b"sonde", ("${SERVER_IP}", 5000))
print(s.recvfrom(2048)[0].decode(), flush=True)`,
    ]);
    await client.waitFor(`${REPLY}sonde\n`);
    assert.equal((await client.finished()).code, 0);
    server.kill("SIGINT");
    const { stdout, code } = await server.finished();
    assert.equal(code, 0);
    // Each forged datagram printed once: the server did not talk to itself.
    assert.equal(stdout.match(/Reçu : /g)?.length, 4, stdout);
  },
);

testTwoHosts(
  "two ex2_udp_server.ts do not answer each other for ever when one is sent the other's address",
  async (hosts) => {
    const a = hosts.program("server", SERVER);
    const b = hosts.program("client", SERVER);
    await a.waitFor("sur le port 5000...\n");
    await b.waitFor("sur le port 5000...\n");
    // To a, from b's address (the client host's own address, port 5000).
    const spoof = hosts.start("client", "python3", [
      "-c",
      SPOOF,
      "10.231.0.2",
      "5000",
      SERVER_IP,
      "5000",
      "ping",
    ]);
    assert.equal((await spoof.finished()).code, 0);
    await a.waitFor("Reçu : ping\n");
    await b.waitFor(`Reçu : ${REPLY}ping\n`);
    // b got a reply and did not answer it: a probe to a shows a printed nothing more meanwhile.
    const probe = hosts.start("client", "python3", [
      "-c",
      `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(20)
s.sendto(b"sonde", ("${SERVER_IP}", 5000))
print(s.recvfrom(2048)[0].decode(), flush=True)`,
    ]);
    await probe.waitFor(`${REPLY}sonde\n`);
    await probe.finished();
    a.kill("SIGINT");
    b.kill("SIGINT");
    const [outA, outB] = [(await a.finished()).stdout, (await b.finished()).stdout];
    assert.equal(outA.match(/Reçu : /g)?.length, 2, outA); // ping, sonde
    assert.equal(outB.match(/Reçu : /g)?.length, 1, outB); // a's reply to ping
  },
);
