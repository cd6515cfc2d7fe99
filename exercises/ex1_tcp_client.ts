#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex1_tcp_client.ts -- exercise 1, client: sends what you type, shows each reply.
 *
 * Run:  deno run --allow-net exercises/ex1_tcp_client.ts
 *       printf 'a\nb\nquit\n' | deno run --allow-net exercises/ex1_tcp_client.ts
 * Try:  deno run --allow-net exercises/ex1_tcp_server.ts     (in a second terminal, first)
 *       or, as a hand-typed server: nc -l 5000
 *
 * Type a line, get the server's answer; "quit" (or Ctrl+D) ends the conversation.
 */
import { readFlags } from "../flags.ts";
import { exitOnErrors } from "../errors.ts";
import { LineReader, shown } from "../lines.ts";
import { print } from "../terminal.ts";

// 1. Read the flags: the server at 127.0.0.1, port 5000, as in the workshop.
const flags = readFlags({
  program: "exercises/ex1_tcp_client.ts",
  purpose: "exercice 1, client TCP : envoie chaque ligne tapée et affiche la réponse.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 5000, timeout: 5 },
  help: { timeout: "secondes pour établir la connexion avant d'abandonner (défaut : 5)" },
  notes: ["Tapez quit (ou Ctrl+D) pour finir. Un stdin redirigé est lu ligne par ligne."],
  example: "deno run --allow-net exercises/ex1_tcp_server.ts   (à lancer avant ce client)",
});
exitOnErrors({
  program: "exercises/ex1_tcp_client.ts",
  ...flags,
  refused: "Erreur: serveur indisponible",
});

// 2. Connect to the server, but do not wait forever if nothing answers (a
// firewall that drops packets): give up after --timeout seconds.
const conn = await Deno.connect({
  hostname: flags.host,
  port: flags.port,
  signal: AbortSignal.timeout(flags.timeout * 1000),
});

// Our lines come from stdin, the replies from the socket: both are byte
// streams, read as lines. `prompt()` would return null when stdin is a pipe,
// so stdin is read directly; stdin lines always end, so no quiet time there.
const input = new LineReader(Deno.stdin, { quietMs: 0 });
const replies = new LineReader(conn);
const onTerminal = Deno.stdin.isTerminal(); // show the prompt only to a person
const encoder = new TextEncoder();

// 3. The request-reply loop: read a line, send it, wait for the answer.
while (true) {
  if (onTerminal) print(">>> ");
  const line = await input.readLine();
  if (line === null && onTerminal) print("\n"); // after Ctrl+D, start a fresh line
  const text = line === null ? "quit" : line.text; // end of input counts as "quit"

  // The server reads lines, so each message ends with "\n" (TCP keeps no
  // boundaries: without it, the server could not tell where a message ends).
  // Send every byte: `write` may take only part of the buffer.
  const data = encoder.encode(text + "\n");
  for (let sent = 0; sent < data.length;) sent += await conn.write(data.subarray(sent));
  if (text.trim() === "quit") {
    console.log("Fin de la conversation");
    break;
  }

  // Wait for the reply: the lines that one read completed, or the end of the
  // stream if the server hung up. A reply without "\n" (the workshop's Python
  // server sends none) is shown after the reader's quiet time.
  const batch = await replies.read();
  if (batch === null) {
    console.log("Déconnecté");
    break;
  }
  print(batch.map((reply) => `Serveur: ${shown(reply)}\n`).join(""));
}

// 4. Close the socket.
conn.close();
