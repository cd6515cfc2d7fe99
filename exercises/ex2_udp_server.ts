#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex2_udp_server.ts -- exercise 2, server: answers every UDP datagram.
 *
 * Run:  deno run --allow-net exercises/ex2_udp_server.ts   (deno.json turns on --unstable-net)
 * Try:  nc -u 127.0.0.1 5000                               (from a second terminal, then type)
 *
 * No connection, no conversation: each datagram arrives with its sender's
 * address, and the answer goes back to that address. Datagrams keep their
 * boundaries, so unlike TCP there is nothing to split: one datagram, one message.
 */
import { readFlags } from "../flags.ts";
import { exitOnErrors, requireUnstableNet } from "../errors.ts";
import { formatAddr, onStop, printError, printSoon } from "../terminal.ts";

/** The workshop's answer, followed by the message. */
const REPLY = "Bonjour client, j'ai bien reçu ton message : ";

// 1. Read the flags: every interface, port 5000, a 1024-byte buffer as in the workshop.
const flags = readFlags({
  program: "exercises/ex2_udp_server.ts",
  purpose: "exercice 2, serveur UDP : répond à chaque datagramme reçu.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 5000, bufferSize: 1024 },
  example: "nc -u 127.0.0.1 5000",
});
exitOnErrors({ program: "exercises/ex2_udp_server.ts", ...flags });
requireUnstableNet("exercises/ex2_udp_server.ts");

// 2. Open the socket and bind it to the port.
const socket = Deno.listenDatagram({ transport: "udp", hostname: flags.host, port: flags.port });

// Ctrl+C or SIGTERM: close the socket, then leave.
onStop(() => {
  socket.close();
  console.log("Fin du programme");
  Deno.exit(0);
});
const { port } = socket.addr as Deno.NetAddr;
console.log(`Serveur UDP en écoute de messages sur le port ${port}...`);

// One reused buffer, one byte longer than --buffer-size to see when a
// datagram was cut (see udp_server.ts).
const buffer = new Uint8Array(flags.bufferSize + 1);
const decoder = new TextDecoder(); // not fatal: invalid UTF-8 becomes U+FFFD
const encoder = new TextEncoder();

// 3. The request-reply loop: receive a datagram, answer its sender.
while (true) {
  const [data, from] = await socket.receive(buffer);
  const cut = data.length > flags.bufferSize;
  let text = decoder.decode(data.subarray(0, flags.bufferSize));
  const newline = text.endsWith("\n"); // nc sends one, the workshop's client none
  if (newline) text = text.slice(0, text.endsWith("\r\n") ? -2 : -1);
  const note = cut ? ` (coupé : datagramme de plus de ${flags.bufferSize} octets)` : "";
  printSoon(`[${formatAddr(from)}] Reçu : ${text}${note}\n`); // one write per burst, not per datagram

  // A client that sends "quit" is leaving: it waits for no answer.
  if (text.trim() === "quit") continue;
  // As in exercise 1, the reply ends with "\n" only if the request did.
  // One `send` is one datagram, sent whole: there is no partial send in UDP.
  const reply = encoder.encode(REPLY + text + (newline ? "\n" : ""));
  try {
    await socket.send(reply, from);
  } catch (err) {
    // The reply could not leave (e.g. too big for one datagram): say so, go on.
    printError(`[${formatAddr(from)}] Erreur: réponse non envoyée (${(err as Error).message})`);
  }
}
