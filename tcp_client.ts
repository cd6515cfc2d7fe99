#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * tcp_client.ts -- le client TCP de l'atelier : se connecte, envoie un message, se déconnecte.
 *
 * Lancer :   deno run --allow-net tcp_client.ts
 *            printf 'a\nb\n' | deno run --allow-net tcp_client.ts   (envoie ce qu'il lit, comme nc)
 * Essayer :  nc -l 8888                             (dans un second terminal, lancé avant)
 */
import { readFlags } from "./lib/flags.ts";
import { formatAddr } from "./lib/ip.ts";
import { messages } from "./lib/lines.ts";
import { print } from "./lib/terminal.ts";

// 1. Les options : "abcdefg!\n" vers 127.0.0.1:8888, comme dans l'atelier.
const flags = readFlags({
  transport: "tcp",
  purpose: "client TCP de l'atelier : se connecte, envoie un message, se déconnecte.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 8888, message: "abcdefg!\n", timeout: 5 },
  help: { timeout: "secondes pour établir la connexion avant d'abandonner (défaut : 5)" },
  notes: [
    "Sans --message, un stdin redirigé (tube ou fichier) est envoyé tel quel, comme avec nc ;",
    "s'il est vide, le message par défaut est envoyé.",
  ],
  example: "nc -l 8888   (à lancer avant ce client)",
  refused: "Erreur: Serveur indisponible",
});

// 2. La connexion : socket() + connect(). La poignée de main TCP a lieu ici :
// un port fermé échoue tout de suite (« connexion refusée »). Si un pare-feu
// jette nos paquets sans répondre, on abandonne après --timeout secondes.
const conn = await Deno.connect({
  hostname: flags.host,
  port: flags.port,
  signal: AbortSignal.timeout(flags.timeout * 1000),
});

// 3. Envoyer chaque octet. write() peut n'en prendre qu'une partie (quand le
// tampon d'envoi est plein) et dit combien : on recommence avec le reste,
// comme sendall() en Python.
async function sendAll(data: Uint8Array): Promise<number> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
  return written;
}
let sent = 0;
if (!flags.given.has("message") && !Deno.stdin.isTerminal()) {
  // stdin redirigé : on le transmet morceau par morceau, comme nc.
  const chunk = new Uint8Array(16384);
  for (let n; (n = await Deno.stdin.read(chunk)) !== null;) {
    sent += await sendAll(chunk.subarray(0, n));
  }
}
if (sent === 0) sent = await sendAll(new TextEncoder().encode(flags.message));
print(`${sent} octets envoyés à ${formatAddr(conn.remoteAddr)}`);

// 4. Demi-fermeture : shutdown(SHUT_WR) envoie le FIN, « je n'ai plus rien à
// dire », mais on peut encore lire ce que le serveur répond, jusqu'à sa fermeture.
await conn.closeWrite();
for await (const reply of messages(conn)) print("Serveur:", reply.text);

// 5. Le serveur a fermé à son tour (recv() a rendu 0 octet) : on ferme la socket.
conn.close();
