#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * udp_server.ts -- the workshop's UDP server: prints every datagram it receives.
 *
 * Run:  deno run --allow-net udp_server.ts      (deno.json turns on --unstable-net)
 * Try:  nc -u 127.0.0.1 8888                    (from a second terminal, then type)
 *
 * UDP keeps message boundaries: one `send` on the other side is one `receive`
 * here, whole or not at all. No connection, no order, no promise of delivery.
 */
import { readFlags } from "./flags.ts";
import { exitOnErrors, requireUnstableNet } from "./errors.ts";
import { formatAddr, onStop, printSoon } from "./terminal.ts";

// 1. Read the flags: every interface, port 8888, a 1024-byte buffer as in the workshop.
const flags = readFlags({
  program: "udp_server.ts",
  purpose: "serveur UDP de l'atelier : affiche chaque datagramme reçu.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 8888, bufferSize: 1024 },
  example: "nc -u 127.0.0.1 8888",
});
exitOnErrors({ program: "udp_server.ts", ...flags });
requireUnstableNet("udp_server.ts");

// 2. Open the socket: socket(AF_INET, SOCK_DGRAM) + bind() in one call.
const socket = Deno.listenDatagram({ transport: "udp", hostname: flags.host, port: flags.port });

// Ctrl+C or SIGTERM: close the socket, then leave.
onStop(() => {
  socket.close();
  console.log("Fin du programme");
  Deno.exit(0);
});
// Only now say that we are ready: a Ctrl+C from here on is handled.
console.log(`Attente de messages UDP sur le port ${(socket.addr as Deno.NetAddr).port}...`);

// One buffer, allocated once and reused for every datagram: a fresh buffer per
// datagram is slow enough to lose most of a burst. It has one byte more than
// --buffer-size: like recvfrom(), `receive` silently drops what does not fit,
// so the only way to know a datagram was cut is to ask for one byte more.
const buffer = new Uint8Array(flags.bufferSize + 1);
const decoder = new TextDecoder(); // not fatal: invalid UTF-8 becomes U+FFFD

// 3. Receive forever. Each `receive` returns one datagram and who sent it:
// the lesson of recvfrom(). That address is all we need to answer.
while (true) {
  const [data, from] = await socket.receive(buffer);
  const cut = data.length > flags.bufferSize;
  const text = decoder.decode(data.subarray(0, flags.bufferSize)).trim();
  const note = cut ? ` (coupé : datagramme de plus de ${flags.bufferSize} octets)` : "";
  // printSoon gathers the lines of a burst into one write (within 5 ms).
  printSoon(`[${formatAddr(from)}] Message reçu: ${text}${note}\n`);
}
