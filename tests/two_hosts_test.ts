/**
 * two_hosts_test.ts -- the workshop across a real network: each server runs on
 * one host and its client (or nc) on another, as in the classroom. The two
 * hosts are network namespaces made by the test (see netns.ts), with a
 * firewall (nftables) on the server for the lessons the course text teaches:
 * a dropped packet is silence, a rejected one is an immediate error.
 */
import assert from "node:assert/strict";
import { linesOf, REPLY, UDP_TIMEOUT } from "./helpers.ts";
import {
  CLIENT_IP,
  ourNamespaces,
  SERVER_IP,
  testTwoHosts,
  TwoHosts,
  whyNoNetns,
} from "./netns.ts";

/** A firewall on the server host: one rule in the input chain. */
function firewallRule(rule: string): string {
  return `table inet socketkit {
  chain input {
    type filter hook input priority 0; policy accept;
    ${rule}
  }
}
`;
}

testTwoHosts(
  "tcp_server.ts on its default bind is reached from the other host by tcp_client.ts",
  async (hosts) => {
    const server = hosts.program("server", "tcp_server.ts"); // no flags: 0.0.0.0:8888, as in the workshop
    await server.waitFor("sur le port 8888...\n");
    const client = await hosts.program("client", "tcp_client.ts", ["--host", SERVER_IP]).finished();
    assert.equal(client.code, 0);
    assert.equal(client.stdout, `9 octets envoyés à ${SERVER_IP}:8888\n`);
    const { code, stdout } = await server.finished();
    assert.equal(code, 0);
    assert.match(linesOf(stdout)[1], new RegExp(`^Client connecté : ${CLIENT_IP}:\\d+$`));
    assert.deepEqual(linesOf(stdout).slice(2), ["Reçu : abcdefg!", "Déconnecté"]);
  },
);

testTwoHosts("tcp_server.ts prints what nc sends from the other host", async (hosts) => {
  const server = hosts.program("server", "tcp_server.ts");
  await server.waitFor("...\n");
  const nc = hosts.start("client", "nc", ["-n", "-N", SERVER_IP, "8888"], "piped");
  await nc.write("par le réseau\n");
  await nc.closeStdin();
  await nc.finished();
  const { stdout } = await server.finished();
  assert.match(stdout, /\nReçu : par le réseau\nDéconnecté\n$/);
});

testTwoHosts("tcp_client.ts reaches nc -l on the other host", async (hosts) => {
  const nc = hosts.start("server", "nc", ["-n", "-v", "-l", "0.0.0.0", "8888"]);
  await nc.waitFor("Listening on", "stderr");
  const client = await hosts.program("client", "tcp_client.ts", ["--host", SERVER_IP]).finished();
  assert.equal(client.code, 0);
  assert.equal((await nc.finished()).stdout, "abcdefg!\n");
});

testTwoHosts(
  "udp_server.ts receives udp_client.ts's datagram from the other host",
  async (hosts) => {
    const server = hosts.program("server", "udp_server.ts");
    await server.waitFor("sur le port 8888...\n");
    const client = await hosts.program("client", "udp_client.ts", ["--host", SERVER_IP]).finished();
    assert.equal(client.code, 0);
    assert.equal(client.stdout, `Message envoyé à ${SERVER_IP}:8888 (8 octets)\n`);
    await server.waitFor(new RegExp(`\\[${CLIENT_IP}:\\d+\\] Message reçu: Salut !\\n`));
    server.kill("SIGINT");
    assert.equal((await server.finished()).code, 0);
  },
);

testTwoHosts("udp_client.ts reaches nc -u -l on the other host", async (hosts) => {
  const nc = hosts.start("server", "nc", ["-n", "-v", "-u", "-l", "0.0.0.0", "8888"]);
  await nc.waitFor("Bound on", "stderr");
  const client = await hosts.program("client", "udp_client.ts", ["--host", SERVER_IP]).finished();
  assert.equal(client.code, 0);
  await nc.waitFor("Salut !\n");
  nc.kill();
  await nc.finished();
});

testTwoHosts("ex1_tcp_server.ts and ex1_tcp_client.ts talk across the network", async (hosts) => {
  const server = hosts.program("server", "exercises/ex1_tcp_server.ts");
  await server.waitFor("sur le port 5000...\n");
  const client = hosts.program(
    "client",
    "exercises/ex1_tcp_client.ts",
    ["--host", SERVER_IP],
    "piped",
  );
  await client.write("bonjour\nquit\n");
  const result = await client.finished();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `Serveur: ${REPLY}bonjour\nFin de la conversation\n`);
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(
    stdout,
    new RegExp(
      `Client connecté : ${CLIENT_IP}:\\d+\\nReçu : bonjour\\nReçu : quit\\nFin de la conversation\\n$`,
    ),
  );
});

testTwoHosts("ex1_tcp_server.ts answers nc from the other host", async (hosts) => {
  const server = hosts.program("server", "exercises/ex1_tcp_server.ts");
  await server.waitFor("...\n");
  const nc = hosts.start("client", "nc", ["-n", "-N", SERVER_IP, "5000"], "piped");
  await nc.write("salut\nquit\n");
  await nc.closeStdin();
  assert.equal((await nc.finished()).stdout, `${REPLY}salut\n`);
  assert.equal((await server.finished()).code, 0);
});

testTwoHosts("ex2_udp_server.ts and ex2_udp_client.ts talk across the network", async (hosts) => {
  const server = hosts.program("server", "exercises/ex2_udp_server.ts");
  await server.waitFor("sur le port 5000...\n");
  const client = hosts.program(
    "client",
    "exercises/ex2_udp_client.ts",
    ["--host", SERVER_IP, "--timeout", UDP_TIMEOUT],
    "piped",
  );
  await client.write("bonjour\nquit\n");
  const result = await client.finished();
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `Serveur: ${REPLY}bonjour\nFin du client UDP\n`);
  await server.waitFor(new RegExp(`\\[${CLIENT_IP}:\\d+\\] Reçu : quit\\n`));
  server.kill("SIGTERM");
  assert.equal((await server.finished()).code, 0);
});

testTwoHosts("ex2_udp_server.ts answers nc -u from the other host", async (hosts) => {
  const server = hosts.program("server", "exercises/ex2_udp_server.ts");
  await server.waitFor("...\n");
  const nc = hosts.start("client", "nc", ["-n", "-u", SERVER_IP, "5000"], "piped");
  await nc.write("salut\n");
  await nc.waitFor(`${REPLY}salut\n`);
  nc.kill();
  await nc.finished();
  server.kill("SIGINT");
  await server.finished();
});

testTwoHosts(
  "a server bound to 127.0.0.1 cannot be reached from the other host: Serveur indisponible",
  async (hosts) => {
    const server = hosts.program("server", "tcp_server.ts", ["--host", "127.0.0.1"]);
    await server.waitFor("...\n");
    const client = await hosts.program("client", "tcp_client.ts", ["--host", SERVER_IP]).finished();
    assert.equal(client.code, 1);
    assert.equal(client.stderr, "Erreur: Serveur indisponible\n");
    const ex1 = hosts.program("server", "exercises/ex1_tcp_server.ts", ["--host", "127.0.0.1"]);
    await ex1.waitFor("...\n");
    const ex1Client = await hosts.program("client", "exercises/ex1_tcp_client.ts", [
      "--host",
      SERVER_IP,
    ])
      .finished();
    assert.equal(ex1Client.code, 1);
    assert.equal(ex1Client.stderr, "Erreur: serveur indisponible\n");
    // On its own host, 127.0.0.1 works.
    const local = await hosts.program("server", "tcp_client.ts").finished();
    assert.equal(local.code, 0);
    server.kill("SIGKILL");
    ex1.kill("SIGKILL");
    await server.finished();
    await ex1.finished();
  },
);

testTwoHosts(
  "a firewall that DROPs the TCP port: both TCP clients give up after --timeout",
  async (hosts) => {
    await hosts.firewall("server", firewallRule("tcp dport { 8888, 5000 } drop"));
    const server = hosts.program("server", "tcp_server.ts");
    await server.waitFor("...\n");
    const client = await hosts.program("client", "tcp_client.ts", [
      "--host",
      SERVER_IP,
      "--timeout",
      "1",
    ])
      .finished();
    assert.equal(client.code, 1);
    assert.equal(
      client.stderr,
      `Erreur: pas de réponse de ${SERVER_IP}:8888 après 1 s (un pare-feu bloque-t-il le port ?)\n`,
    );
    const ex1 = await hosts.program("client", "exercises/ex1_tcp_client.ts", [
      "--host",
      SERVER_IP,
      "--timeout",
      "0.5",
    ]).finished();
    assert.equal(ex1.code, 1);
    assert.equal(
      ex1.stderr,
      `Erreur: pas de réponse de ${SERVER_IP}:5000 après 0,5 s (un pare-feu bloque-t-il le port ?)\n`,
    );
    server.kill("SIGKILL");
    await server.finished();
  },
);

testTwoHosts(
  "a firewall that REJECTs with a TCP reset: Serveur indisponible at once",
  async (hosts) => {
    await hosts.firewall("server", firewallRule("tcp dport 8888 reject with tcp reset"));
    const server = hosts.program("server", "tcp_server.ts");
    await server.waitFor("...\n");
    const client = await hosts.program("client", "tcp_client.ts", ["--host", SERVER_IP]).finished();
    assert.equal(client.code, 1);
    assert.equal(client.stderr, "Erreur: Serveur indisponible\n");
    server.kill("SIGKILL");
    await server.finished();
  },
);

testTwoHosts(
  "a firewall that DROPs the UDP port: ex2 client gets no reply, udp_client.ts still succeeds",
  async (hosts) => {
    await hosts.firewall("server", firewallRule("udp dport { 8888, 5000 } drop"));
    const server = hosts.program("server", "exercises/ex2_udp_server.ts");
    await server.waitFor("...\n");
    const client = hosts.program(
      "client",
      "exercises/ex2_udp_client.ts",
      ["--host", SERVER_IP, "--timeout", "0.5"],
      "piped",
    );
    await client.write("il y a quelqu'un ?\n");
    await client.waitFor("Pas de réponse");
    await client.write("quit\n");
    const result = await client.finished();
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout,
      "Pas de réponse du serveur après 0,5 s (UDP ne garantit pas la livraison)\nFin du client UDP\n",
    );
    // UDP cannot know: the one-shot client reports success all the same.
    const udp = await hosts.program("client", "udp_client.ts", ["--host", SERVER_IP]).finished();
    assert.equal(udp.code, 0);
    assert.equal(udp.stdout, `Message envoyé à ${SERVER_IP}:8888 (8 octets)\n`);
    server.kill("SIGINT");
    // The server saw nothing of it all.
    assert.equal(linesOf((await server.finished()).stdout).length, 2); // ready line, Fin du programme
  },
);

testTwoHosts("removing the hosts leaves no namespace behind, even after a failure", async () => {
  const hosts = await TwoHosts.create();
  assert.deepEqual(
    (await ourNamespaces()).filter((n) => n === hosts.server || n === hosts.client).sort(),
    [hosts.client, hosts.server],
  );
  try {
    throw new Error("a test fails here");
  } catch {
    await hosts.remove();
  }
  assert.deepEqual(
    (await ourNamespaces()).filter((n) => n === hosts.server || n === hosts.client),
    [],
  );
});

Deno.test("the two-host tests run where they can, and in CI always", () => {
  const why = whyNoNetns();
  if (Deno.env.get("CI") === "true") assert.equal(why, null, `CI must run them: ${why}`);
  else assert.ok(why === null || why.length > 0);
});
