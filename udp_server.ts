#!/usr/bin/env -S deno run --allow-net --unstable-net
/**
 * udp_server.ts -- le serveur UDP de l'atelier : affiche chaque datagramme reçu.
 *
 * Lancer :   deno run --allow-net udp_server.ts      (le deno.json du dossier active --unstable-net)
 * Essayer :  nc -u 127.0.0.1 8888                    (depuis un second terminal, puis tapez)
 */
import { readFlags } from "./lib/flags.ts";
import { formatAddr } from "./lib/ip.ts";
import { textOf } from "./lib/text.ts";
import { onStop, print } from "./lib/terminal.ts";

// 1. Les options : toutes les interfaces, port 8888, un tampon de 1024 octets comme dans l'atelier.
const flags = readFlags({
  transport: "udp",
  purpose: "serveur UDP de l'atelier : affiche chaque datagramme reçu.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 8888, bufferSize: 1024 },
  example: "nc -u 127.0.0.1 8888",
});

// 2. La socket : socket(AF_INET, SOCK_DGRAM) + bind() en un seul appel. Pas de
// listen() ni d'accept() : en UDP, il n'y a pas de connexion.
const socket = Deno.listenDatagram({ transport: "udp", hostname: flags.host, port: flags.port });
onStop("Fin du programme", socket); // Ctrl+C : fermer la socket, dire au revoir
print(`Attente de messages UDP sur le port ${(socket.addr as Deno.NetAddr).port}...`);

// Le tampon a un octet de plus que --buffer-size : comme recvfrom(), receive()
// coupe sans rien dire un datagramme trop long ; cet octet en trop le trahit.
const buffer = new Uint8Array(flags.bufferSize + 1);

// 3. Chaque receive() rend UN datagramme, entier, et l'adresse de qui l'a
// envoyé : c'est recvfrom(). UDP garde les frontières des messages.
while (true) {
  const [data, from] = await socket.receive(buffer);
  // Les octets deviennent du texte : UTF-8 (sinon « � »), sans espaces autour comme
  // strip(), et les caractères de contrôle montrés (\r, \n, \x1b) : un datagramme = une ligne.
  const text = textOf(data.subarray(0, flags.bufferSize));
  const cut = data.length > flags.bufferSize
    ? ` (coupé : datagramme de plus de ${flags.bufferSize} octets)`
    : "";
  print(`[${formatAddr(from)}] Message reçu:`, text + cut);
}
