/**
 * ex2_client.ts -- the checks of exercise 2's client (UDP): the verifier is
 * its server, a UDP socket on 127.0.0.1, types the client's lines on its
 * stdin and reads what it prints. The client is started afresh for each check.
 *
 * @module
 */
import { type Check, type Exercise, LOST_MS, REPLY_MS, type Session, START_MS } from "./checks.ts";
import { clientCrashed as crashed, pieceShown, REPLY_START, showed } from "./client_output.ts";
import type { Student } from "./student.ts";
import { crashText, lastPrinted, printed, printedLines, quote, REPLY } from "./text.ts";
import { type Datagram, Mailbox } from "./udp.ts";

/** The client, our socket, and the client's first datagram. */
interface Meeting {
  student: Student;
  box: Mailbox;
  first: Datagram;
}

const SECONDS = REPLY_MS / 1000;
const decoder = new TextDecoder();

/** A datagram's text without its line end, and whether it had one. */
function requestOf(datagram: Datagram): { text: string; newline: boolean } {
  const text = decoder.decode(datagram.data);
  return { text: text.replace(/\r?\n$/, ""), newline: text.endsWith("\n") };
}

/** Binds the port, starts the client, types `typed`, and waits for its first datagram. */
async function meet(session: Session, typed = "bonjour\n"): Promise<Meeting | string> {
  const port = session.port;
  let box: Mailbox;
  try {
    box = session.own(Mailbox.open(port));
  } catch {
    return `le port UDP ${port} est pris par un autre programme : le vérificateur ne peut pas ` +
      `y jouer le serveur ; arrêtez ce programme`;
  }
  const student = session.start(true);
  await student.type(typed);
  const first = await box.next(START_MS, () => student.status !== null);
  if (first) return { student, box, first };
  const fix = `mettez IP = "127.0.0.1" et PORT = ${port} dans votre client`;
  if (student.status !== null) {
    return `votre client s'est arrêté sans rien envoyer sur 127.0.0.1:${port} ` +
      `${crashText(student.status, student.errorLine())} : ${fix}`;
  }
  return `aucun datagramme reçu sur 127.0.0.1:${port} en ${START_MS / 1000} s après la ligne ` +
    `tapée « ${typed.trim()} » : ${fix}`;
}

/** Answers as the exercise's server does, to the address the request came from. */
async function answer({ box, first }: Meeting): Promise<string> {
  const request = requestOf(first);
  const reply = REPLY + request.text;
  await box.send(reply + (request.newline ? "\n" : ""), first.from);
  return reply;
}

/** Checks that the client's first datagram is `expected`. */
function wrongRequest({ first }: Meeting, expected: string): string | null {
  const { text } = requestOf(first);
  if (text === expected) return null;
  const utf8 = text.includes("\uFFFD") ? ", qui n'est pas du texte UTF-8," : "";
  return `le vérificateur a reçu ${quote(text)}${utf8} au lieu de ${quote(expected)} : ` +
    `envoyez exactement la ligne tapée, encodée avec .encode()`;
}

/** The checks of exercise 2's client. */
export function checks(port: number): Check[] {
  return [
    {
      id: "adresse",
      level: "requis",
      title: `envoie ses messages à 127.0.0.1:${port}`,
      run: async (session) => {
        const meeting = await meet(session);
        return typeof meeting === "string" ? meeting : null;
      },
    },
    {
      id: "envoi",
      level: "requis",
      title: "envoie chaque ligne tapée, un datagramme par ligne",
      needs: "adresse",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const wrong = wrongRequest(meeting, "bonjour");
        if (wrong) return wrong;
        await answer(meeting);
        await meeting.student.type("ça va ?\n");
        const second = await meeting.box.next(REPLY_MS, () => meeting.student.status !== null);
        if (second) return wrongRequest({ ...meeting, first: second }, "ça va ?");
        const idea =
          "lire une ligne, l'envoyer et attendre la réponse doivent être dans une boucle";
        const crash = await crashed(meeting.student, "après la première réponse", idea);
        if (crash) return crash;
        return `votre client a envoyé la première ligne, mais pas la deuxième (« ça va ? ») : ${idea}`;
      },
    },
    {
      id: "affichage",
      level: "requis",
      title: "affiche « Serveur: <réponse> »",
      needs: "adresse",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const reply = await answer(meeting);
        const { student } = meeting;
        if (await showed(student, () => printed(student.stdout, `Serveur: ${reply}`))) return null;
        const idea = `affichez la réponse décodée, après « Serveur: » : ` +
          `print("Serveur:", data.decode())`;
        const crash = await crashed(student, "après avoir reçu la réponse", idea);
        if (crash) return crash;
        return `votre client n'a pas affiché « Serveur: ${reply} » ; il a affiché ` +
          `${lastPrinted(student.stdout)} : ${idea}`;
      },
    },
    {
      id: "quit",
      level: "requis",
      title: "« quit » termine le client",
      needs: "adresse",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        await answer(meeting);
        const { student } = meeting;
        await student.type("quit\n");
        const status = await student.exitedWithin(REPLY_MS);
        if (status?.success) return null;
        if (status) {
          return `votre client s'est arrêté sur une erreur ` +
            `${crashText(status, student.errorLine())} après « quit » : quit doit faire sortir ` +
            `de la boucle, puis fermer la socket`;
        }
        return `votre client tourne encore ${SECONDS} s après « quit » : après avoir envoyé ` +
          `quit, sortez de la boucle sans attendre de réponse, puis fermez la socket`;
      },
    },
    {
      id: "perte",
      level: "avancé",
      title: "une réponse perdue : le client n'attend pas indéfiniment",
      needs: "adresse",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        // No answer to "bonjour": the client must give up and read the next line.
        const { student, box } = meeting;
        await student.type("ça va ?\n");
        if (await box.next(LOST_MS, () => student.status !== null)) return null;
        const crash = await crashed(
          student,
          "quand la réponse n'est pas venue",
          "attrapez socket.timeout (try/except), dites que la réponse n'est pas venue et " +
            "laissez taper la ligne suivante",
        );
        if (crash) return crash;
        if (student.status !== null) {
          return `votre client s'est arrêté quand la réponse n'est pas venue, sans lire la ligne ` +
            `suivante : dites que la réponse n'est pas venue et laissez taper la ligne suivante`;
        }
        return `votre client attend encore, ${LOST_MS / 1000} s plus tard, une réponse qui ne ` +
          `viendra pas : en UDP un datagramme peut se perdre ; mettez un délai sur recvfrom() ` +
          `(settimeout) et, quand il expire, dites-le et laissez taper la ligne suivante`;
      },
    },
    {
      id: "intrus",
      level: "avancé",
      title: "un datagramme d'un inconnu",
      needs: "adresse",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const intruder = "je suis un intrus";
        const stranger = session.own(Mailbox.open());
        // The stranger writes first, from another port; then the server answers.
        await stranger.send(intruder, meeting.first.from);
        const reply = await answer(meeting);
        const { student } = meeting;
        const fooled = () => printedLines(student.stdout).find((line) => line.includes(intruder));
        await showed(student, () => printed(student.stdout, reply) || fooled() !== undefined);
        const idea = "en UDP n'importe qui peut vous écrire ; comparez l'adresse que recvfrom() " +
          "donne à celle du serveur, et ignorez les autres";
        const line = fooled();
        if (line !== undefined) {
          return `votre client a affiché ${quote(line)}, un datagramme venu de ` +
            `127.0.0.1:${stranger.port} et non du serveur : ${idea}`;
        }
        if (printed(student.stdout, reply)) return null;
        const crash = await crashed(student, "en recevant le datagramme d'un inconnu", idea);
        if (crash) return crash;
        return `votre client n'a pas affiché la réponse du serveur ${quote(reply)}, venue après ` +
          `le datagramme d'un inconnu (il a affiché ${lastPrinted(student.stdout)}) : ${idea}`;
      },
    },
    {
      id: "gros",
      level: "avancé",
      title: "une réponse de plus de 1024 octets",
      needs: "adresse",
      run: async (session) => {
        const line = "0123456789".repeat(150);
        const meeting = await meet(session, `${line}\n`);
        if (typeof meeting === "string") return meeting;
        const reply = await answer(meeting);
        const { student } = meeting;
        const done = () => printed(student.stdout, reply) || !!pieceShown(student.stdout, reply);
        await showed(student, done);
        if (printed(student.stdout, reply)) return null;
        const idea = "recvfrom(1024) garde au plus 1024 octets d'un datagramme, le reste est " +
          "perdu ; prenez un tampon de 65535 octets, la taille maximale d'un datagramme";
        const piece = pieceShown(student.stdout, reply);
        if (piece) {
          const shown = piece.slice(piece.indexOf(REPLY_START));
          return `votre client a affiché une réponse de ${shown.length} caractères au lieu de ` +
            `${reply.length} (${quote(shown, 60)}) : ${idea}`;
        }
        const crash = await crashed(
          student,
          `en recevant une réponse de ${reply.length} octets`,
          idea,
        );
        if (crash) return crash;
        return `votre client n'a pas affiché la réponse de ${reply.length} caractères (il a ` +
          `affiché ${lastPrinted(student.stdout)}) : ${idea}`;
      },
    },
  ];
}

/** Exercise 2, client. */
export const EX2_CLIENT: Exercise = {
  name: "ex2-client",
  label: "exercice 2, client UDP",
  side: "client",
  transport: "udp",
  plays: "le vérificateur joue le serveur sur 127.0.0.1",
  checks,
};
