/**
 * ex2_server.ts -- the checks of exercise 2's server (UDP): the verifier is
 * its clients, UDP sockets on 127.0.0.1, and starts the server afresh for
 * each check.
 *
 * @module
 */
import { type Check, type Exercise, REPLY_MS, type Session, START_MS } from "./checks.ts";
import { boundAddresses } from "./procfs.ts";
import type { Student } from "./student.ts";
import { type Datagram, Mailbox } from "./udp.ts";
import { crashText, isUtf8, quote, REPLY } from "./text.ts";

const SECONDS = REPLY_MS / 1000;
/** The addresses where a datagram sent to 127.0.0.1 arrives. */
const REACHABLE = ["0.0.0.0", "127.0.0.1", "::"];
const decoder = new TextDecoder();

/** What to tell when the server says nothing, or something else. */
interface Ideas {
  silent: string;
  wrong: string;
}

/**
 * Starts the server and sends it "bonjour" until it answers. UDP has no
 * connection: an answer is the only proof, from the network, that it listens.
 */
async function ready(session: Session): Promise<Student | string> {
  const student = session.start();
  const probe = session.own(Mailbox.open());
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline && student.status === null) {
    await probe.send("bonjour", session.port);
    if (await probe.waitUntil(() => probe.datagrams.length > 0, 100)) {
      await probe.close(); // later answers to the probe must not reach the check's sockets
      return student;
    }
    // Bound elsewhere (another port, another address): no need to wait for the deadline.
    const bound = await boundAddresses(student.pid, "udp") ?? [];
    if (
      bound.length > 0 && !bound.some((b) => b.port === session.port && REACHABLE.includes(b.ip))
    ) {
      break;
    }
  }
  return await whyNotAnswering(session.port, student);
}

/** Why the server never answered, with the fix. */
async function whyNotAnswering(port: number, student: Student): Promise<string> {
  if (student.status !== null) {
    const ended = crashText(student.status, student.errorLine());
    if (/Address already in use|Errno 98|AddrInUse|déjà utilisé/i.test(student.stderr)) {
      return `votre serveur s'est arrêté ${ended}, car un autre programme occupe le port UDP ` +
        `${port} : arrêtez-le`;
    }
    return `votre programme s'est arrêté avant de répondre sur le port UDP ${port} ${ended} : ` +
      `un serveur UDP doit rester ouvert, en attente dans recvfrom()`;
  }
  const bound = await boundAddresses(student.pid, "udp") ?? [];
  const onPort = bound.filter((b) => b.port === port);
  const reachable = onPort.filter((b) => REACHABLE.includes(b.ip));
  if (reachable.length > 0) {
    return `votre serveur reçoit sur le port UDP ${port}, mais n'a jamais répondu à « bonjour » ` +
      `en ${START_MS / 1000} s : renvoyez la réponse avec sendto(réponse, adresse), à l'adresse ` +
      `que recvfrom() a donnée`;
  }
  if (onPort.length > 0) {
    return `votre serveur est lié à ${onPort[0].ip}:${port}, que 127.0.0.1 n'atteint pas : ` +
      `mettez IP = "127.0.0.1", ou IP = "0.0.0.0" pour toutes les interfaces`;
  }
  if (bound.length > 0) {
    const ports = [...new Set(bound.map((b) => b.port))].join(", ");
    return `votre serveur est lié au port UDP ${ports} et non au port ${port} : ` +
      `mettez PORT = ${port}`;
  }
  return `rien ne répond sur le port UDP ${port} après ${START_MS / 1000} s : mettez ` +
    `IP = "127.0.0.1" (ou "0.0.0.0") et PORT = ${port}, puis appelez bind()`;
}

/** The server ended on an error: the sentence that says so, or null. */
async function crashed(student: Student, when: string, idea: string): Promise<string | null> {
  const status = student.status ?? await student.exitedWithin(500);
  if (status === null || status.success) return null;
  return `votre serveur s'est arrêté sur une erreur ${crashText(status, student.errorLine())} ` +
    `${when} : ${idea}`;
}

/** A datagram's text, without its line end. */
function textOf(datagram: Datagram): string {
  return decoder.decode(datagram.data).replace(/\r?\n$/, "");
}

/**
 * Sends `text` from `box` and checks that the answer is the reply to
 * `message`; `heard` gets the answer's text, whatever it is.
 */
async function ask(
  session: Session,
  student: Student,
  box: Mailbox,
  text: string,
  message: string,
  ideas: Ideas,
  heard: (reply: string) => void = () => {},
): Promise<string | null> {
  await box.send(text, session.port);
  const datagram = await box.next(REPLY_MS, () => student.status !== null);
  const expected = session.setup.prefix + message;
  if (datagram === undefined) {
    const crash = await crashed(student, `en recevant ${quote(text)}`, ideas.wrong);
    if (crash) return crash;
    return `votre serveur n'a rien répondu en ${SECONDS} s à ${quote(text)} : ${ideas.silent}`;
  }
  const reply = textOf(datagram);
  heard(reply);
  if (reply === expected) return null;
  if (!isUtf8(datagram.data)) {
    return `votre serveur a répondu ${quote(reply)}, qui n'est pas du texte UTF-8 : encodez ` +
      `la réponse avec .encode(), qui donne de l'UTF-8`;
  }
  return `votre serveur a répondu ${quote(reply)} à ${quote(text)}, au lieu de ` +
    `${quote(expected)} : ${ideas.wrong}`;
}

/** Starts the server, then asks one question from a fresh socket. */
async function exchange(
  session: Session,
  text: string,
  message: string,
  ideas: Ideas,
): Promise<string | null> {
  const student = await ready(session);
  if (typeof student === "string") return student;
  return await ask(session, student, session.own(Mailbox.open()), text, message, ideas);
}

const ANSWER_BACK = "renvoyez la réponse avec sendto(réponse, adresse), à l'adresse que " +
  "recvfrom() a donnée pour ce datagramme";

/** Checks that a second client, B, still gets its answer after what client A did. */
async function stillServes(
  session: Session,
  student: Student,
  what: string,
  idea: string,
): Promise<string | null> {
  const b = session.own(Mailbox.open());
  await b.send("bonjour", session.port);
  const datagram = await b.next(REPLY_MS, () => student.status !== null);
  if (datagram !== undefined && textOf(datagram) === session.setup.prefix + "bonjour") return null;
  const crash = await crashed(student, what, idea);
  if (crash) return crash;
  if (student.status !== null) return `votre serveur s'est arrêté ${what} : ${idea}`;
  return `votre serveur n'a plus répondu correctement à un autre client ${what} (il a ` +
    `répondu ${datagram ? quote(textOf(datagram)) : "rien"}) : ${idea}`;
}

/** The checks of exercise 2's server. */
export function checks(port: number): Check[] {
  return [
    {
      id: "ecoute",
      level: "requis",
      title: `répond sur le port UDP ${port}`,
      run: async (session) => {
        const student = await ready(session);
        return typeof student === "string" ? student : null;
      },
    },
    {
      id: "phrase",
      level: "requis",
      title: `répond exactement « ${REPLY}bonjour »`,
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        const box = session.own(Mailbox.open());
        let reply = "";
        const why = await ask(session, student, box, "bonjour", "bonjour", {
          silent: ANSWER_BACK,
          wrong: "la phrase doit être exactement celle de l'énoncé, espaces, accents et " +
            "ponctuation compris",
        }, (text) => reply = text);
        // Another sentence before the message: the later checks will expect it.
        if (why && reply.endsWith("bonjour") && reply.length > 7 && !reply.includes("\n")) {
          session.setup.prefix = reply.slice(0, -7);
        }
        return why;
      },
    },
    {
      id: "retour-ligne",
      level: "requis",
      title: "répond aussi à « bonjour\\n », terminé par un retour à la ligne (comme nc)",
      needs: "ecoute",
      run: (session) =>
        exchange(session, "bonjour\n", "bonjour", {
          silent: "nc et le client en Deno envoient chaque ligne avec son \\n ; le serveur " +
            "doit leur répondre aussi",
          wrong: "retirez le \\n de fin avec strip() avant de répondre",
        }),
    },
    {
      id: "plusieurs",
      level: "requis",
      title: "répond à plusieurs messages du même client",
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        const box = session.own(Mailbox.open());
        for (const message of ["bonjour", "comment vas-tu ?", "au revoir"]) {
          const why = await ask(session, student, box, `${message}\n`, message, {
            silent: "recvfrom() et sendto() doivent être dans une boucle sans fin",
            wrong: "recvfrom() et sendto() doivent être dans une boucle sans fin",
          });
          if (why) return why;
        }
        return null;
      },
    },
    {
      id: "accents",
      level: "requis",
      title: "garde les accents (UTF-8)",
      needs: "ecoute",
      run: (session) =>
        exchange(
          session,
          "où est le café ? à côté de l'hôtel\n",
          "où est le café ? à côté de l'hôtel",
          {
            silent: "décodez les octets reçus avec .decode() et encodez la réponse avec .encode()",
            wrong: "un « é » fait 2 octets en UTF-8 ; décodez les octets reçus avec .decode() et " +
              "encodez la réponse avec .encode(), en UTF-8 des deux côtés",
          },
        ),
    },
    {
      id: "deux-clients",
      level: "requis",
      title: "répond à chaque client, à l'adresse d'où vient son message",
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        const a = session.own(Mailbox.open());
        const b = session.own(Mailbox.open());
        await a.send("je suis A\n", session.port);
        await b.send("je suis B\n", session.port);
        const prefix = session.setup.prefix;
        const right = (box: Mailbox, message: string) =>
          box.datagrams.some((d) => textOf(d) === prefix + message);
        await a.waitUntil(() => a.datagrams.length > 0, REPLY_MS);
        await b.waitUntil(() => b.datagrams.length > 0, REPLY_MS);
        if (right(a, "je suis A") && right(b, "je suis B")) return null;
        const crash = await crashed(
          student,
          "en recevant les messages de deux clients",
          ANSWER_BACK,
        );
        if (crash) return crash;
        const got = (box: Mailbox) =>
          box.datagrams.length === 0
            ? "rien"
            : box.datagrams.map((d) => quote(textOf(d), 60)).join(" puis ");
        return `le client A a reçu ${got(a)} et le client B ${got(b)}, au lieu de la réponse ` +
          `à son propre message pour chacun : ${ANSWER_BACK}`;
      },
    },
    {
      id: "quit",
      level: "requis",
      title: "« quit » d'un client n'arrête pas le serveur",
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        const a = session.own(Mailbox.open());
        await a.send("quit", session.port);
        return await stillServes(
          session,
          student,
          "après le « quit » d'un client",
          "en UDP il n'y a pas de connexion : quit ne concerne que le client qui part, le " +
            "serveur doit continuer à répondre aux autres",
        );
      },
    },
    {
      id: "depart",
      level: "requis",
      title: "survit au départ d'un client qui n'attend pas sa réponse",
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        const a = Mailbox.open();
        await a.send("bonjour", session.port);
        await a.close(); // gone before the answer: it will find no one
        return await stillServes(
          session,
          student,
          "après le départ d'un client qui n'a pas attendu sa réponse",
          "une réponse qui ne trouve personne ne doit pas arrêter le serveur ; ignorez " +
            "l'erreur d'envoi (try/except) et passez au datagramme suivant",
        );
      },
    },
    {
      id: "gros",
      level: "avancé",
      title: "un datagramme plus grand que le tampon de 1024 octets",
      needs: "ecoute",
      run: async (session) => {
        const student = await ready(session);
        if (typeof student === "string") return student;
        // 3001 bytes: 1024 of them end in the middle of an "é" (2 bytes in UTF-8).
        const big = "x" + "é".repeat(1500);
        const a = session.own(Mailbox.open());
        await a.send(big, session.port);
        return await stillServes(
          session,
          student,
          "après un datagramme de 3001 octets",
          "recvfrom(1024) coupe ce qui dépasse, ici au milieu d'un « é » ; décodez avec " +
            `.decode(errors="replace"), ou prenez un tampon plus grand`,
        );
      },
    },
  ];
}

/** Exercise 2, server. */
export const EX2_SERVER: Exercise = {
  name: "ex2-serveur",
  label: "exercice 2, serveur UDP",
  side: "serveur",
  transport: "udp",
  plays: "le vérificateur joue les clients",
  checks,
};
