/**
 * udp_edges_test.ts -- odd datagrams: empty, the largest, cut, a burst of
 * 100,000, and replies to a port that has closed.
 * Each case starts the real programs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { REPLY, resendUntil, startServer, udpSocket } from "../helpers.ts";

const encoder = new TextEncoder();

// --- UDP edge cases ------------------------------------------------------------

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
