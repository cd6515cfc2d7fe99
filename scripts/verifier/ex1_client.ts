/**
 * ex1_client.ts -- the checks of exercise 1's client (TCP): the verifier is
 * its server, on 127.0.0.1, types the client's lines on its stdin and reads
 * what it prints. The client is started afresh for each check.
 *
 * @module
 */
import { type Check, type Exercise, REPLY_MS, type Session, START_MS } from "./checks.ts";
import type { Student } from "./student.ts";
import { Acceptor, type Link, SPLIT_TRIES } from "./tcp.ts";
import { clientCrashed as crashed, pieceShown, REPLY_START, showed } from "./client_output.ts";
import { crashText, lastPrinted, printed, printedLines, quote, REPLY } from "./text.ts";

/** The client, and the connection it made to us. */
interface Meeting {
  student: Student;
  link: Link;
}

const SECONDS = REPLY_MS / 1000;

/** Listens, starts the client, types `typed`, and waits for the client to connect. */
async function meet(session: Session, typed = "bonjour\n"): Promise<Meeting | string> {
  let acceptor: Acceptor;
  try {
    acceptor = session.own(Acceptor.open(session.port));
  } catch {
    return `le port ${session.port} est pris par un autre programme : le vérificateur ne peut ` +
      `pas y jouer le serveur ; arrêtez ce programme`;
  }
  const student = session.start(true);
  await student.type(typed);
  const link = await acceptor.accept(START_MS, student);
  if (link) return { student, link: session.own(link) };
  const port = session.port;
  const fix = `mettez IP = "127.0.0.1" et PORT = ${port} dans votre client`;
  if (/serveur indisponible/i.test(student.stdout + student.stderr)) {
    return `votre client a affiché « Erreur: serveur indisponible » alors que le vérificateur ` +
      `écoutait sur 127.0.0.1:${port} : ${fix}`;
  }
  if (student.status !== null) {
    return `votre client s'est arrêté sans se connecter ` +
      `${crashText(student.status, student.errorLine())} : ${fix}`;
  }
  return `aucune connexion reçue sur 127.0.0.1:${port} en ${START_MS / 1000} s : ${fix}`;
}

/**
 * Takes the client's next message, which must be `expected`; or says what came
 * instead (`silence`, if given, when nothing came).
 */
async function request(
  { student, link }: Meeting,
  expected: string,
  silence?: string,
): Promise<{ text: string; newline: boolean } | string> {
  const got = await link.takeRequest(expected, REPLY_MS);
  if (got === null) {
    const idea = "lisez la ligne avec input(), puis envoyez-la avec send()";
    const crash = await crashed(student, `après la ligne tapée ${quote(expected)}`, idea);
    if (crash) return crash;
    if (silence && link.ended === "no") return silence;
    const what = link.ended === "no" ? "n'a rien envoyé" : "a fermé la connexion sans rien envoyer";
    return `votre client ${what} en ${SECONDS} s après la ligne tapée ${quote(expected)} : ${idea}`;
  }
  if (got.text === expected) return got;
  const utf8 = got.text.includes("\uFFFD") ? ", qui n'est pas du texte UTF-8," : "";
  return `le vérificateur a reçu ${quote(got.text)}${utf8} au lieu de ${quote(expected)} : ` +
    `envoyez exactement la ligne tapée, encodée avec .encode()`;
}

/** Answers a request as the exercise's server does: "\n" at the end only if the request had one. */
async function answer(link: Link, request: { text: string; newline: boolean }): Promise<string> {
  const reply = REPLY + request.text;
  await link.send(reply + (request.newline ? "\n" : ""));
  return reply;
}

/** The checks of exercise 1's client. */
export function checks(port: number): Check[] {
  return [
    {
      id: "connexion",
      level: "requis",
      title: `se connecte à 127.0.0.1:${port}`,
      run: async (session) => {
        const meeting = await meet(session);
        return typeof meeting === "string" ? meeting : null;
      },
    },
    {
      id: "envoi",
      level: "requis",
      title: "envoie chaque ligne tapée",
      needs: "connexion",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const first = await request(meeting, "bonjour");
        if (typeof first === "string") return first;
        await answer(meeting.link, first);
        await meeting.student.type("ça va ?\n");
        const second = await request(
          meeting,
          "ça va ?",
          `votre client a envoyé la première ligne, mais pas la deuxième (« ça va ? ») : ` +
            `lire une ligne, l'envoyer et attendre la réponse doivent être dans une boucle`,
        );
        return typeof second === "string" ? second : null;
      },
    },
    {
      id: "affichage",
      level: "requis",
      title: "affiche « Serveur: <réponse> »",
      needs: "connexion",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const got = await request(meeting, "bonjour");
        if (typeof got === "string") return got;
        const reply = await answer(meeting.link, got);
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
      needs: "connexion",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const got = await request(meeting, "bonjour");
        if (typeof got === "string") return got;
        await answer(meeting.link, got);
        const { student } = meeting;
        await student.type("quit\n");
        // The connection stays open: the client must end by itself.
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
      id: "sans-serveur",
      level: "requis",
      title: "sans serveur, affiche « Erreur: serveur indisponible »",
      run: async (session) => {
        const student = session.start(true);
        await student.type("bonjour\n");
        const said = () => /Erreur ?: ?serveur indisponible/i.test(student.stdout + student.stderr);
        if (await showed(student, said)) return null;
        const idea = "attrapez l'erreur de connect() (try/except ConnectionRefusedError) et " +
          "affichez ce message";
        const crash = await crashed(
          student,
          `sans afficher « Erreur: serveur indisponible », alors qu'aucun serveur n'écoutait sur ` +
            `127.0.0.1:${session.port}`,
          idea,
        );
        if (crash) return crash;
        return `votre client n'a pas affiché « Erreur: serveur indisponible » alors qu'aucun ` +
          `serveur n'écoutait sur 127.0.0.1:${session.port} (il a affiché ` +
          `${lastPrinted(student.stdout)}) : ${idea}`;
      },
    },
    {
      id: "deconnexion",
      level: "requis",
      title: "affiche « Déconnecté » quand le serveur ferme la connexion",
      needs: "connexion",
      run: async (session) => {
        const meeting = await meet(session);
        if (typeof meeting === "string") return meeting;
        const got = await request(meeting, "bonjour");
        if (typeof got === "string") return got;
        await meeting.link.close(); // the server hangs up instead of answering
        const { student } = meeting;
        const said = () => printedLines(student.stdout).some((line) => line.includes("Déconnecté"));
        if (await showed(student, said)) return null;
        const idea = `recv() qui renvoie 0 octet (b"") veut dire que le serveur a fermé la ` +
          `connexion ; affichez alors Déconnecté et sortez de la boucle`;
        const crash = await crashed(
          student,
          "quand le serveur a fermé la connexion, au lieu d'afficher « Déconnecté »",
          idea,
        );
        if (crash) return crash;
        if (printedLines(student.stdout).some((line) => /Serveur\s*:\s*$/.test(line))) {
          return `votre client a affiché « Serveur: » (une réponse vide) au lieu de ` +
            `« Déconnecté » quand le serveur a fermé la connexion : ${idea}`;
        }
        return `votre client n'a pas affiché « Déconnecté » quand le serveur a fermé la ` +
          `connexion (il a affiché ${lastPrinted(student.stdout)}) : ${idea}`;
      },
    },
    {
      id: "coupe",
      level: "avancé",
      title: "une réponse arrivée en deux segments",
      needs: "connexion",
      run: async (session) => {
        let student: Student;
        let reply: string;
        for (let tries = 1;; tries++) {
          const meeting = await meet(session);
          if (typeof meeting === "string") return meeting;
          const got = await request(meeting, "bonjour");
          if (typeof got === "string") return got;
          student = meeting.student;
          reply = REPLY + got.text;
          const bytes = new TextEncoder().encode(reply + (got.newline ? "\n" : ""));
          const tight = await meeting.link.sendInTwo(
            bytes.subarray(0, REPLY_START.length),
            bytes.subarray(REPLY_START.length),
          );
          const shown = () => printed(student.stdout, reply);
          await showed(student, () => shown() || !!pieceShown(student.stdout, reply));
          if (shown()) return null;
          // The machine was too busy to send the rest at once: a client that took the pause
          // for the end of the reply is not to blame. Start again.
          if (tight || tries === SPLIT_TRIES) break;
          await session.end();
        }
        const idea = "TCP est un flux d'octets, un recv() peut ne rendre qu'une partie de la " +
          "réponse ; lisez jusqu'au \\n";
        const piece = pieceShown(student.stdout, reply);
        if (piece) {
          return `votre client a affiché ${quote(piece)} : la réponse est arrivée en deux ` +
            `morceaux et un seul recv() n'a lu que le premier ; TCP est un flux d'octets, ` +
            `lisez jusqu'au \\n`;
        }
        const crash = await crashed(student, "quand la réponse est arrivée en deux morceaux", idea);
        if (crash) return crash;
        return `votre client n'a pas affiché la réponse ${quote(reply)}, arrivée en deux ` +
          `morceaux (il a affiché ${lastPrinted(student.stdout)}) : ${idea}`;
      },
    },
    {
      id: "long",
      level: "avancé",
      title: "une réponse de plus de 1024 octets",
      needs: "connexion",
      run: async (session) => {
        const line = "0123456789".repeat(150);
        const meeting = await meet(session, `${line}\n`);
        if (typeof meeting === "string") return meeting;
        const got = await request(meeting, line);
        if (typeof got === "string") return got;
        const reply = await answer(meeting.link, got);
        const { student } = meeting;
        const done = () => printed(student.stdout, reply) || !!pieceShown(student.stdout, reply);
        await showed(student, done);
        if (printed(student.stdout, reply)) return null;
        const idea = "recv(1024) lit au plus 1024 octets, la suite attend le recv() suivant ; " +
          "lisez jusqu'au \\n";
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

/** Exercise 1, client. */
export const EX1_CLIENT: Exercise = {
  name: "ex1-client",
  label: "exercice 1, client TCP",
  side: "client",
  transport: "tcp",
  plays: "le vérificateur joue le serveur sur 127.0.0.1",
  checks,
};
