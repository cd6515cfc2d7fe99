#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * udp_client.ts -- the workshop's UDP client: sends one datagram and exits.
 *
 * Run:  deno run --allow-net udp_client.ts      (deno.json turns on --unstable-net)
 * Try:  nc -u -l 8888                           (in a second terminal, started first)
 */
import { readFlags } from "./flags.ts";
import { exitOnErrors, requireUnstableNet } from "./errors.ts";
import { formatAddr } from "./terminal.ts";

// 1. Read the flags: by default "Salut !\n" to 127.0.0.1:8888, as in the workshop.
const flags = readFlags({
  program: "udp_client.ts",
  purpose: "client UDP de l'atelier : envoie un datagramme et s'arrête.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 8888, message: "Salut !\n" },
  example: "nc -u -l 8888   (à lancer avant ce client)",
});
exitOnErrors({ program: "udp_client.ts", ...flags });
requireUnstableNet("udp_client.ts");

// 2. Open a UDP socket. Port 0 asks the system for any free ("ephemeral") port:
// a client does not care which port it sends from. IPv6 servers need an IPv6 socket.
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: flags.host.includes(":") ? "::" : "0.0.0.0",
  port: 0,
});

// 3. Send one datagram: one `send` is one message, delivered whole or not at all.
// There is no connection, so nothing tells us whether anyone is listening: if
// no one is, the datagram is simply dropped, and this still "succeeds".
const data = new TextEncoder().encode(flags.message);
const server: Deno.NetAddr = { transport: "udp", hostname: flags.host, port: flags.port };
await socket.send(data, server);
console.log(`Message envoyé à ${formatAddr(server)} (${data.length} octets)`);

// 4. Close the socket and leave.
socket.close();
