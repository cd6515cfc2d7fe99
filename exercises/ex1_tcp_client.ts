#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex1_tcp_client.ts -- exercice 1, client : envoie ce que vous tapez, affiche chaque réponse.
 *
 * Lancer :   deno run --allow-net exercises/ex1_tcp_client.ts
 *            printf 'a\nb\nquit\n' | deno run --allow-net exercises/ex1_tcp_client.ts
 * Essayer :  deno run --allow-net exercises/ex1_tcp_server.ts  (dans un second terminal, avant)
 *            ou, en serveur tapé à la main : nc -l 5000
 */
import { readFlags } from "../lib/flags.ts";
import { messages } from "../lib/lines.ts";
import { writeAll } from "../lib/net.ts";
import { input, onStop, print } from "../lib/terminal.ts";

// 1. Les options : le serveur en 127.0.0.1, port 5000, comme dans l'atelier.
const flags = readFlags({
  transport: "tcp",
  purpose: "exercice 1, client TCP : envoie chaque ligne tapée et affiche la réponse.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 5000, timeout: 5 },
  help: { timeout: "secondes pour établir la connexion avant d'abandonner (défaut : 5)" },
  notes: ["Tapez quit (ou Ctrl+D) pour finir. Un stdin redirigé est lu ligne par ligne."],
  example: "deno run --allow-net exercises/ex1_tcp_server.ts   (à lancer avant ce client)",
  refused: "Erreur: serveur indisponible",
});

// 2. La connexion, sans attendre indéfiniment si rien ne répond (un pare-feu
// qui jette les paquets) : on abandonne après --timeout secondes.
const conn = await Deno.connect({
  hostname: flags.host,
  port: flags.port,
  signal: AbortSignal.timeout(flags.timeout * 1000),
});
onStop("Fin de la conversation", conn); // Ctrl+C
const replies = messages(conn); // les réponses, découpées en lignes dans le flux TCP

// 3. La boucle demande-réponse : lire une ligne, l'envoyer, attendre la réponse.
while (true) {
  const text = (await input(">>> ")) ?? "quit"; // Ctrl+D (fin de l'entrée) vaut "quit"
  // Le serveur lit des lignes : chaque message finit par "\n". Sans lui, TCP
  // ne garde pas les frontières et le serveur ne saurait pas où il s'arrête.
  await writeAll(conn, text + "\n");
  if (text.trim() === "quit") {
    print("Fin de la conversation");
    break;
  }
  const reply = await replies.read(); // null : le serveur a fermé (recv() a rendu 0 octet)
  if (reply === null) {
    print("Déconnecté");
    break;
  }
  print("Serveur:", reply.text);
}

// 4. Fermer la socket.
conn.close();
