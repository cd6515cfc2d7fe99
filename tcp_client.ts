#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * tcp_client.ts -- the workshop's TCP client: connects, sends a message, closes.
 *
 * Run:  deno run --allow-net tcp_client.ts
 *       printf 'a\nb\n' | deno run --allow-net tcp_client.ts   (sends what it reads, like nc)
 * Try:  nc -l 8888                             (in a second terminal, started first)
 *
 * What is sent: `--message` if given; otherwise piped stdin, if it has bytes;
 * otherwise the workshop's "abcdefg!\n" (also with an empty stdin, as in cron).
 */
import { readFlags } from "./flags.ts";
import { exitOnErrors } from "./errors.ts";
import { LineReader, shown } from "./lines.ts";
import { formatAddr, print } from "./terminal.ts";

// 1. Read the flags: by default "abcdefg!\n" to 127.0.0.1:8888, as in the workshop.
const flags = readFlags({
  program: "tcp_client.ts",
  purpose: "client TCP de l'atelier : se connecte, envoie un message, se déconnecte.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 8888, message: "abcdefg!\n", timeout: 5 },
  help: { timeout: "secondes pour établir la connexion avant d'abandonner (défaut : 5)" },
  notes: [
    "Sans --message, un stdin redirigé (tube ou fichier) est envoyé tel quel, comme avec nc ;",
    "s'il est vide, le message par défaut est envoyé.",
  ],
  example: "nc -l 8888   (à lancer avant ce client)",
});
exitOnErrors({ program: "tcp_client.ts", ...flags, refused: "Erreur: Serveur indisponible" });

// 2. Connect: socket() + connect(). The three-way handshake happens here, so a
// closed port fails now ("connection refused"), before any byte is sent. If a
// firewall silently drops our packets, nothing answers at all: the system
// would retry for minutes, so we give up after --timeout seconds.
const conn = await Deno.connect({
  hostname: flags.host,
  port: flags.port,
  signal: AbortSignal.timeout(flags.timeout * 1000),
});

// 3. Send every byte. `conn.write` may take only part of the buffer (when the
// socket's send buffer is full) and returns how many bytes it took: loop until
// all are written, as Beej's sendall() and Stevens' writen() do.
async function writeAll(data: Uint8Array): Promise<number> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
  return written;
}
let sent = 0;
if (!flags.given.has("message") && !Deno.stdin.isTerminal()) {
  // Piped stdin: pass it on chunk by chunk, so that a big file never sits in memory.
  const chunk = new Uint8Array(16384);
  for (let n; (n = await Deno.stdin.read(chunk)) !== null;) {
    sent += await writeAll(chunk.subarray(0, n));
  }
}
if (sent === 0) sent = await writeAll(new TextEncoder().encode(flags.message));
console.log(`${sent} octets envoyés à ${formatAddr(conn.remoteAddr)}`);

// 4. Half-close: shutdown(SHUT_WR) sends FIN, "I have nothing more to say",
// while we can still read. Closing at once could lose what the server sends
// back; waiting for its own close means every byte was delivered.
await conn.closeWrite();
const replies = new LineReader(conn);
for (let batch; (batch = await replies.read()) !== null;) {
  print(batch.map((m) => `Serveur: ${shown(m)}\n`).join(""));
}

// 5. The server closed its side too (read returned 0 bytes): close the socket.
conn.close();
