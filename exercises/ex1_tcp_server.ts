#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex1_tcp_server.ts -- exercise 1, server: answers every message of a TCP client.
 *
 * Run:  deno run --allow-net exercises/ex1_tcp_server.ts     (add -k for many clients)
 * Try:  nc 127.0.0.1 5000                                    (from a second terminal, then type)
 *
 * The request-reply loop: read a message, answer it, read the next one, until
 * the client says "quit" or hangs up. Because TCP is a byte stream, "a message"
 * must be defined: here it is a line (see lines.ts), or what a client that
 * sends no newline (the workshop's Python client) sent before a short pause.
 */
import { readFlags } from "../flags.ts";
import { acceptFailed, connectionLost, exitOnErrors } from "../errors.ts";
import { LineReader, shown } from "../lines.ts";
import { closeAll, formatAddr, onStop, print, printError, printSoon } from "../terminal.ts";

/** The workshop's answer, followed by the message. */
const REPLY = "Bonjour client, j'ai bien reçu ton message : ";

// 1. Read the flags: every interface, port 5000, one client, as in the workshop.
const flags = readFlags({
  program: "exercises/ex1_tcp_server.ts",
  purpose: "exercice 1, serveur TCP : répond à chaque message d'un client.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 5000, keepOpen: false },
  example: "nc 127.0.0.1 5000",
});
exitOnErrors({ program: "exercises/ex1_tcp_server.ts", ...flags });

// 2. Open the listening socket.
const listener = Deno.listen({ hostname: flags.host, port: flags.port });

// Ctrl+C or SIGTERM: close every socket we hold, then leave.
const clients = new Set<Deno.Conn>();
onStop(() => {
  closeAll([listener, ...clients]);
  console.log("Fin du programme");
  Deno.exit(0);
});
console.log(`Serveur TCP en attente de connexion sur le port ${listener.addr.port}...`);

// 3. Accept clients: one, as in the workshop, or with -k many at the same
// time, each conversation on its own (no `await`), its lines prefixed with
// the client's address.
while (true) {
  let conn: Deno.Conn;
  try {
    conn = await listener.accept();
  } catch (err) {
    await acceptFailed(err); // a client gone before we took it, or no descriptor left
    continue;
  }
  if (!flags.keepOpen) {
    listener.close(); // one client only: refuse the others instead of leaving them waiting
    Deno.exit(await converse(conn, "") ? 0 : 1);
  }
  converse(conn, `[${formatAddr(conn.remoteAddr)}] `);
}

/** One conversation. Returns false if the connection broke. */
async function converse(conn: Deno.Conn, prefix: string): Promise<boolean> {
  clients.add(conn);
  print(`${prefix}Client connecté : ${formatAddr(conn.remoteAddr)}\n`);
  const requests = new LineReader(conn);
  const encoder = new TextEncoder();
  try {
    // 4. The request-reply loop. `read` hands over the messages that one
    // `conn.read` completed: usually one, several if the client sent fast.
    let quit = false;
    for (let batch; !quit && (batch = await requests.read()) !== null;) {
      let said = "";
      let replies = "";
      for (const message of batch) {
        quit = message.text.trim() === "quit"; // the client says goodbye: no reply
        if (quit) break;
        said += `${prefix}Reçu : ${shown(message)}\n`;
        // The reply ends with "\n" only if the request did: nc shows it on its
        // own line, and the workshop's client, which sends none, gets exactly
        // the bytes it expects. (A piece of an over-long line is marked, and
        // ends with "\n" too, so that the replies do not run together.)
        const newline = message.end === "newline" || message.end === "cut";
        replies += REPLY + shown(message) + (newline ? "\n" : "");
      }
      printSoon(said); // written within 5 ms, with other lines: not one write per message
      // Send every byte: `write` may take only part of the buffer.
      const data = encoder.encode(replies);
      for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
    }
    // "quit", or the client closed its side (read returned 0 bytes).
    print(`${prefix}Fin de la conversation\n`);
    return true;
  } catch (err) {
    // A reset (RST) or a vanished client: say so, and keep serving the others.
    printError(`Erreur: ${connectionLost(err) ?? err} (client ${formatAddr(conn.remoteAddr)})`);
    return false;
  } finally {
    clients.delete(conn);
    conn.close();
  }
}
