#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex2_udp_client.ts -- exercise 2, client: sends what you type as datagrams, shows each reply.
 *
 * Run:  deno run --allow-net exercises/ex2_udp_client.ts   (deno.json turns on --unstable-net)
 *       printf 'a\nb\nquit\n' | deno run --allow-net exercises/ex2_udp_client.ts
 * Try:  deno run --allow-net exercises/ex2_udp_server.ts   (in a second terminal)
 *       or, as a hand-typed server: nc -u -l 5000
 *
 * UDP promises nothing: a datagram or its reply may be lost, and then no
 * answer ever comes. So, unlike the workshop's client, which waits forever,
 * this one gives up after --timeout seconds and lets you type again.
 */
import { lookup } from "node:dns/promises";
import { readFlags } from "../flags.ts";
import { exitOnErrors, requireUnstableNet } from "../errors.ts";
import { print } from "../terminal.ts";
import { LineReader } from "../lines.ts";

// 1. Read the flags: the server at 127.0.0.1, port 5000, a 2-second timeout.
const flags = readFlags({
  program: "exercises/ex2_udp_client.ts",
  purpose: "exercice 2, client UDP : envoie chaque ligne tapée et affiche la réponse.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 5000, timeout: 2 },
  notes: ["Tapez quit (ou Ctrl+D) pour finir. Un stdin redirigé est lu ligne par ligne."],
  example: "deno run --allow-net exercises/ex2_udp_server.ts   (à lancer avant ce client)",
});
exitOnErrors({ program: "exercises/ex2_udp_client.ts", ...flags });
requireUnstableNet("exercises/ex2_udp_client.ts");

// 2. Resolve the server's name once: replies come from an IP address, not a
// name, and we must recognise them (see step 4).
const { address, family } = await lookup(flags.host);
const server: Deno.NetAddr = { transport: "udp", hostname: address, port: flags.port };

// 3. Open a UDP socket on any free port ("ephemeral"), of the server's family.
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: family === 6 ? "::" : "0.0.0.0",
  port: 0,
});

const input = new LineReader(Deno.stdin, { quietMs: 0 }); // prompt() is null on a pipe
const onTerminal = Deno.stdin.isTerminal(); // show the prompt only to a person
const encoder = new TextEncoder();
const decoder = new TextDecoder(); // not fatal: invalid UTF-8 becomes U+FFFD
const buffer = new Uint8Array(65536); // the largest datagram fits
const seconds = flags.timeout.toLocaleString("fr-FR"); // "0,5" in French

// A pending `receive` cannot be cancelled. When the timeout wins, the receive
// stays in flight and is reused by the next wait: starting a second one beside
// it could return datagrams out of order. Its failure is caught and kept as a
// value, so that closing the socket at the end is no unhandled rejection.
let pending: Promise<[Uint8Array, Deno.Addr] | Error> | null = null;

// 4. The request-reply loop: read a line, send it as one datagram, wait for
// the answer, but not forever.
while (true) {
  if (onTerminal) print(">>> ");
  const line = await input.readLine();
  if (line === null && onTerminal) print("\n"); // after Ctrl+D, start a fresh line
  const text = line === null ? "quit" : line.text; // end of input counts as "quit"

  // One `send` is one datagram: the server gets this message whole, or not at all.
  await socket.send(encoder.encode(text + "\n"), server);
  if (text.trim() === "quit") break;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"délai">((resolve) => {
    timer = setTimeout(resolve, flags.timeout * 1000, "délai");
  });
  while (true) {
    pending ??= socket.receive(buffer).catch((err: Error) => err);
    const got = await Promise.race([pending, timeout]);
    if (got === "délai") {
      console.log(
        `Pas de réponse du serveur après ${seconds} s (UDP ne garantit pas la livraison)`,
      );
      break;
    }
    pending = null;
    if (got instanceof Error) throw got;
    const [data, from] = got as [Uint8Array, Deno.NetAddr];
    // Anyone can send us a datagram. Only the server's count (Stevens, dgcliaddr.c).
    if (from.hostname !== server.hostname || from.port !== server.port) continue;
    print(`Serveur: ${decoder.decode(data).replace(/\r?\n$/, "")}\n`);
    break;
  }
  clearTimeout(timer);
}

// 5. Close the socket and leave.
console.log("Fin du client UDP");
socket.close();
