#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * ex2_udp_client.ts -- exercice 2, client : envoie ce que vous tapez en datagrammes, affiche les réponses.
 *
 * Lancer :   deno run --allow-net exercises/ex2_udp_client.ts   (deno.json active --unstable-net)
 *            printf 'a\nb\nquit\n' | deno run --allow-net exercises/ex2_udp_client.ts
 * Essayer :  deno run --allow-net exercises/ex2_udp_server.ts   (dans un second terminal)
 *            ou, en serveur tapé à la main : nc -u -l 5000
 */
import { lookup } from "node:dns/promises";
import { readFlags } from "../lib/flags.ts";
import { forgetLateReplies, receiveBefore, sameAddress } from "../lib/net.ts";
import { input, onStop, print } from "../lib/terminal.ts";
import { textOf } from "../lib/text.ts";

// 1. Les options : le serveur en 127.0.0.1, port 5000, 2 secondes d'attente au plus.
const flags = readFlags({
  transport: "udp",
  purpose: "exercice 2, client UDP : envoie chaque ligne tapée et affiche la réponse.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 5000, timeout: 2 },
  notes: ["Tapez quit (ou Ctrl+D) pour finir. Un stdin redirigé est lu ligne par ligne."],
  example: "deno run --allow-net exercises/ex2_udp_server.ts   (à lancer avant ce client)",
});

// 2. L'adresse IP du serveur, cherchée une fois : les réponses viennent d'une
// adresse IP, pas d'un nom, et il faudra les reconnaître.
const { address, family } = await lookup(flags.host);
const server: Deno.NetAddr = { transport: "udp", hostname: address, port: flags.port };

// 3. La socket, sur un port libre quelconque (port 0), de la famille du serveur.
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: family === 6 ? "::" : "0.0.0.0",
  port: 0,
});
onStop("Fin du client UDP", socket); // Ctrl+C
const encoder = new TextEncoder();
const seconds = flags.timeout.toLocaleString("fr-FR"); // "0,5" en français

// 4. La boucle demande-réponse. UDP ne promet rien : la demande ou la réponse
// peut se perdre. Le client de l'atelier attendrait alors pour toujours ;
// celui-ci abandonne après --timeout secondes et vous laisse retaper.
while (true) {
  const text = (await input(">>> ")) ?? "quit"; // Ctrl+D (fin de l'entrée) vaut "quit"
  await forgetLateReplies(socket); // une réponse arrivée trop tard décalerait toutes les suivantes
  await socket.send(encoder.encode(text + "\n"), server); // un send() = un datagramme entier
  if (text.trim() === "quit") break;

  const deadline = Date.now() + flags.timeout * 1000;
  let got = await receiveBefore(socket, deadline); // null : rien avant l'heure limite
  // N'importe qui peut nous envoyer un datagramme : seuls ceux du serveur comptent.
  while (got !== null && !sameAddress(got[1], server)) got = await receiveBefore(socket, deadline);
  if (got === null) {
    print(`Pas de réponse du serveur après ${seconds} s (UDP ne garantit pas la livraison)`);
  } else {
    print("Serveur:", textOf(got[0]));
  }
}

// 5. Fermer la socket.
print("Fin du client UDP");
socket.close();
