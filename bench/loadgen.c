/*
 * loadgen.c -- the load side of bench.ts: a client that costs the servers it
 * measures as little as possible, so that the figures say something about the
 * servers and not about the client. Plain C, libc and POSIX only; bench.ts
 * builds it with `cc -O2` at each run.
 *
 *   loadgen round-trips PORT N [--raw] [--warmup W]
 *                                        N sequential request-reply round trips on one connection,
 *                                        timed after W more that are not (the runtime's warm-up)
 *   loadgen many-clients PORT C N [--dump FILE]
 *                                        C clients at once (epoll), N round trips each; --dump
 *                                        writes each round trip to FILE, one line each: client,
 *                                        round trip, start (s since the clients began to connect),
 *                                        latency (s)
 *   loadgen send-lines PORT BYTES        100-byte lines as fast as possible, then shutdown(SHUT_WR)
 *                                        and waits for the server to close
 *   loadgen udp-burst PORT N [RATE [LETTER]]
 *                                        N datagrams of 64 bytes ("mmm...\n", or LETTER), at RATE a
 *                                        second (0, the default: as fast as possible)
 *   loadgen idle-clients PORT K          opens K connections, prints "open", holds them until
 *                                        stdin closes
 *
 * Every mode but idle-clients prints one JSON object on stdout, its last line.
 * The servers are on 127.0.0.1. A request is "message I\n" (round-trips) or
 * "client C message I\n" (many-clients); the reply must be the workshop's
 * sentence followed by the request, ending with "\n", or without it with
 * --raw (the workshop's Python server strips the line and sends no "\n").
 * Errors: a line on stderr and exit code 1 (2 for a wrong command line).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* "Bonjour client, j'ai bien reçu ton message : " in UTF-8. */
static const char REPLY[] = "Bonjour client, j'ai bien re\xc3\xa7"
                            "u ton message : ";
#define REPLY_LEN (sizeof REPLY - 1)

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void usage(void) {
  fputs("usage: loadgen round-trips PORT N [--raw] [--warmup W]\n"
        "       loadgen many-clients PORT CLIENTS N [--dump FILE]\n"
        "       loadgen send-lines PORT BYTES\n"
        "       loadgen udp-burst PORT N [RATE [LETTER]]\n"
        "       loadgen idle-clients PORT K\n",
        stderr);
  exit(2);
}

/* A whole number from the command line, within [min, max]. */
static long number(const char *text, long min, long max) {
  char *end;
  errno = 0;
  long n = strtol(text, &end, 10);
  if (errno || end == text || *end || n < min || n > max) {
    fprintf(stderr, "loadgen: not a number in [%ld, %ld]: %s\n", min, max, text);
    usage();
  }
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

/* Waits until a connect() in progress ends; returns its error (0: connected). */
static int connect_result(int fd) {
  int epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLOUT};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
  while (epoll_wait(epfd, &ev, 1, -1) < 0) {
    if (errno != EINTR) die("epoll_wait: %s", strerror(errno));
  }
  close(epfd);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

/* A TCP connection to 127.0.0.1:port, TCP_NODELAY. Blocking: dies if it fails. Non-blocking:
 * the connection may still be under way, and a failure at once is returned as -errno. */
static int tcp_connect(int port, int nonblocking) {
  int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
    die("setsockopt(TCP_NODELAY): %s", strerror(errno));
  }
  struct sockaddr_in addr = loopback(port);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  int err = errno;
  if (nonblocking) {
    if (err == EINPROGRESS) return fd;
    close(fd);
    return -err;
  }
  if (err == EINTR) err = connect_result(fd); /* the connection goes on in the background */
  if (err) die("connect to 127.0.0.1:%d: %s", port, strerror(err));
  return fd;
}

/* send() until every byte is gone (a blocking socket may still take only part of them). */
static void send_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("send: %s", strerror(errno));
    }
    data += n;
    len -= (size_t)n;
  }
}

/* recv() that retries on EINTR and dies on an error. */
static size_t recv_some(int fd, char *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(fd, buf, len, 0);
    if (n >= 0) return (size_t)n;
    if (errno != EINTR) die("recv: %s", strerror(errno));
  }
}

/* Does reply[0..len) hold the sentence and the request (without its "\n")? */
static int reply_matches(const char *reply, size_t len, const char *request, size_t request_len) {
  return len == REPLY_LEN + request_len && memcmp(reply, REPLY, REPLY_LEN) == 0 &&
         memcmp(reply + REPLY_LEN, request, request_len) == 0;
}

/* --- round-trips -------------------------------------------------------------------- */

static void round_trips(int port, long count, int raw, long warmup) {
  int fd = tcp_connect(port, 0);
  char request[64], reply[4096];
  double start = now();
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) start = now(); /* the clock starts after the warm-up */
    int len = snprintf(request, sizeof request, "message %ld\n", i);
    send_all(fd, request, (size_t)len);
    size_t body = REPLY_LEN + (size_t)len - 1; /* the reply without its "\n" */
    size_t got = 0;
    /* Read until the reply's "\n" (or, with --raw, until the whole reply): it may come in pieces. */
    for (;;) {
      if (got == sizeof reply) die("round trip %ld: a reply longer than %zu bytes", i, got);
      size_t n = recv_some(fd, reply + got, sizeof reply - got);
      if (n == 0) die("round trip %ld: the server closed the connection", i);
      got += n;
      if (raw ? got >= body : memchr(reply + got - n, '\n', n) != NULL) break;
    }
    size_t text = raw ? got : got - 1;
    if ((!raw && reply[got - 1] != '\n') || !reply_matches(reply, text, request, (size_t)len - 1)) {
      die("round trip %ld: unexpected reply (%zu bytes): %.*s", i, got, (int)got, reply);
    }
  }
  double seconds = now() - start;
  send_all(fd, "quit\n", 5);
  close(fd);
  printf("{\"round_trips\": %ld, \"seconds\": %.9f}\n", count, seconds);
}

/* --- many-clients ------------------------------------------------------------------- */

enum state { CONNECTING, SENDING, READING, DONE };

struct client {
  int fd;
  enum state state;
  long trip;          /* the round trip under way */
  double started;     /* when its request was first sent */
  char out[64];       /* the request */
  size_t out_len, sent;
  char in[256];       /* the reply so far */
  size_t got;
};

static int epfd;
static long errors, shown_errors, remaining;
static double *latencies;
static long latency_count;
static FILE *dump;   /* --dump: every round trip, for a latency distribution over time */
static double clients_start; /* when the clients started connecting */

static void watch(struct client *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

/* One client fails: counted, shown (the first few), and closed. */
static void fail(struct client *c, long index, const char *what, int err) {
  errors++;
  if (shown_errors++ < 5) {
    fprintf(stderr, "loadgen: client %ld, round trip %ld: %s%s%s\n", index, c->trip, what,
            err ? ": " : "", err ? strerror(err) : "");
  }
  close(c->fd);
  c->state = DONE;
  remaining--;
}

static void finish(struct client *c) {
  send(c->fd, "quit\n", 5, MSG_NOSIGNAL | MSG_DONTWAIT); /* best effort: the server may be gone */
  close(c->fd);
  c->state = DONE;
  remaining--;
}

/* Sends what is left of the request; then waits for the reply. */
static void pump_send(struct client *c, long index) {
  while (c->sent < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (c->state != SENDING) watch(c, EPOLLOUT);
        c->state = SENDING;
        return;
      }
      fail(c, index, "send", errno);
      return;
    }
    c->sent += (size_t)n;
  }
  if (c->state != READING) watch(c, EPOLLIN);
  c->state = READING;
}

static void start_trip(struct client *c, long index) {
  c->out_len = (size_t)snprintf(c->out, sizeof c->out, "client %ld message %ld\n", index, c->trip);
  c->sent = 0;
  c->got = 0;
  c->started = now();
  pump_send(c, index);
}

/* Reads what has come of the reply; at its "\n", checks it and starts the next round trip. */
static void pump_read(struct client *c, long index, long count) {
  for (;;) {
    if (c->got == sizeof c->in) {
      fail(c, index, "a reply too long", 0);
      return;
    }
    ssize_t n = recv(c->fd, c->in + c->got, sizeof c->in - c->got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(c, index, "recv", errno);
      return;
    }
    if (n == 0) {
      fail(c, index, "the server closed the connection", 0);
      return;
    }
    char *eol = memchr(c->in + c->got, '\n', (size_t)n);
    c->got += (size_t)n;
    if (!eol) continue;
    double latency = now() - c->started;
    size_t line = (size_t)(eol - c->in);
    if (line + 1 != c->got || !reply_matches(c->in, line, c->out, c->out_len - 1)) {
      errors++; /* a wrong reply: counted, and the client goes on, as the Python client did */
      if (shown_errors++ < 5) {
        fprintf(stderr, "loadgen: client %ld, round trip %ld: unexpected reply: %.*s\n", index,
                c->trip, (int)c->got, c->in);
      }
    }
    if (dump) {
      fprintf(dump, "%ld %ld %.6f %.6f\n", index, c->trip, c->started - clients_start, latency);
    }
    if (c->trip > 0) latencies[latency_count++] = latency; /* the first one also paid for connect */
    if (++c->trip == count) {
      finish(c);
      return;
    }
    start_trip(c, index);
    return;
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted xs. */
static double percentile(const double *xs, long n, double p) {
  if (n == 0) return 0;
  long rank = (long)(p / 100 * (double)n + 0.999999999);
  if (rank < 1) rank = 1;
  return xs[rank - 1];
}

static void raise_fd_limit(long needed) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) < 0) return;
  if ((rlim_t)needed > limit.rlim_cur && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && (rlim_t)needed > limit.rlim_cur) {
    die("%ld connections need more file descriptors than the limit (%ld): ulimit -n", needed,
        (long)limit.rlim_cur);
  }
}

static void many_clients(int port, long clients, long count, const char *dump_file) {
  raise_fd_limit(clients + 16);
  struct client *all = calloc((size_t)clients, sizeof *all);
  latencies = calloc((size_t)(clients * (count > 1 ? count - 1 : 1)), sizeof *latencies);
  if (!all || !latencies) die("out of memory");
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));

  if (dump_file && !(dump = fopen(dump_file, "w"))) die("%s: %s", dump_file, strerror(errno));
  clients_start = now();
  remaining = clients;
  for (long i = 0; i < clients; i++) { /* every client connects at once, as asyncio.gather does */
    struct client *c = &all[i];
    c->fd = tcp_connect(port, 1);
    if (c->fd < 0) {
      errors++;
      if (shown_errors++ < 5) {
        fprintf(stderr, "loadgen: client %ld: connect: %s\n", i, strerror(-c->fd));
      }
      c->state = DONE;
      remaining--;
      continue;
    }
    c->state = CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
  }

  struct epoll_event events[256];
  double last_progress = now();
  while (remaining > 0) {
    int n = epoll_wait(epfd, events, 256, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    if (n == 0) {
      if (now() - last_progress > 60) { /* a server that stopped answering: the rest fail */
        for (long i = 0; i < clients; i++) {
          if (all[i].state != DONE) fail(&all[i], i, "no reply for 60 s", 0);
        }
      }
      continue;
    }
    last_progress = now();
    for (int k = 0; k < n; k++) {
      struct client *c = events[k].data.ptr;
      long index = c - all;
      switch (c->state) {
        case CONNECTING: {
          int err = 0;
          socklen_t len = sizeof err;
          if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
          if (err) {
            fail(c, index, "connect", err);
          } else {
            c->state = SENDING; /* the socket is watched for EPOLLOUT already */
            start_trip(c, index);
          }
          break;
        }
        case SENDING:
          pump_send(c, index);
          break;
        case READING:
          pump_read(c, index, count);
          break;
        case DONE:
          break;
      }
    }
  }
  double seconds = now() - clients_start;
  if (dump && fclose(dump) != 0) die("%s: %s", dump_file, strerror(errno));
  close(epfd);
  qsort(latencies, (size_t)latency_count, sizeof *latencies, by_value);
  printf("{\"clients\": %ld, \"round_trips\": %ld, \"seconds\": %.9f, \"p50\": %.9f, "
         "\"p99\": %.9f, \"errors\": %ld}\n",
         clients, count, seconds, percentile(latencies, latency_count, 50),
         percentile(latencies, latency_count, 99), errors);
  free(all);
  free(latencies);
}

/* --- send-lines ----------------------------------------------------------------------- */

static void send_lines(int port, long total) {
  enum { LINES = 10486, LINE = 100 }; /* about 1 MiB of 100-byte lines */
  static char block[LINES * LINE];
  for (int i = 0; i < LINES; i++) {
    memset(block + i * LINE, 'x', LINE - 1);
    block[i * LINE + LINE - 1] = '\n';
  }
  int fd = tcp_connect(port, 0);
  double start = now();
  long sent = 0;
  while (sent < total) {
    send_all(fd, block, sizeof block);
    sent += (long)sizeof block;
  }
  if (shutdown(fd, SHUT_WR) < 0) die("shutdown: %s", strerror(errno));
  char sink[65536];
  while (recv_some(fd, sink, sizeof sink) > 0) {
  } /* the server closes once it has printed everything */
  double seconds = now() - start;
  close(fd);
  printf("{\"bytes\": %ld, \"seconds\": %.9f}\n", sent, seconds);
}

/* --- udp-burst ------------------------------------------------------------------------ */

/* Waits until the monotonic clock reaches `due`: sleeps while far from it, then spins. */
static void wait_until(double due) {
  for (;;) {
    double left = due - now();
    if (left <= 0) return;
    if (left > 200e-6) {
      double wake = due - 100e-6;
      struct timespec ts = {.tv_sec = (time_t)wake,
                            .tv_nsec = (long)((wake - (double)(time_t)wake) * 1e9)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: the loop goes on */
    }
  }
}

static void udp_burst(int port, long count, long rate, char letter) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  char payload[64];
  memset(payload, letter, 63);
  payload[63] = '\n';
  struct sockaddr_in addr = loopback(port);
  double start = now();
  for (long i = 0; i < count; i++) {
    if (rate) wait_until(start + (double)i / (double)rate);
    while (sendto(fd, payload, sizeof payload, 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) { /* the local queue is full: let it drain */
        sched_yield();
        continue;
      }
      die("sendto 127.0.0.1:%d: %s", port, strerror(errno));
    }
  }
  double seconds = now() - start;
  close(fd);
  printf("{\"sent\": %ld, \"seconds\": %.9f}\n", count, seconds);
}

/* --- idle-clients --------------------------------------------------------------------- */

static void idle_clients(int port, long count) {
  raise_fd_limit(count + 16);
  int *fds = calloc((size_t)count, sizeof *fds);
  if (!fds) die("out of memory");
  for (long i = 0; i < count; i++) fds[i] = tcp_connect(port, 0);
  printf("open\n");
  fflush(stdout);
  char buf[256];
  for (;;) { /* until stdin closes */
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  for (long i = 0; i < count; i++) close(fds[i]);
  free(fds);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 3) usage();
  const char *mode = argv[1];
  int port = (int)number(argv[2], 1, 65535);
  if (!strcmp(mode, "round-trips") && argc >= 4) {
    int raw = 0;
    long warmup = 0;
    for (int a = 4; a < argc; a++) {
      if (!strcmp(argv[a], "--raw")) raw = 1;
      else if (!strcmp(argv[a], "--warmup") && a + 1 < argc) warmup = number(argv[++a], 0, 1000000000);
      else usage();
    }
    round_trips(port, number(argv[3], 1, 1000000000), raw, warmup);
  } else if (!strcmp(mode, "many-clients") &&
             (argc == 5 || (argc == 7 && !strcmp(argv[5], "--dump")))) {
    many_clients(port, number(argv[3], 1, 1000000), number(argv[4], 1, 1000000),
                 argc == 7 ? argv[6] : NULL);
  } else if (!strcmp(mode, "send-lines") && argc == 4) {
    send_lines(port, number(argv[3], 1, 1L << 50));
  } else if (!strcmp(mode, "udp-burst") && argc >= 4 && argc <= 6) {
    long rate = argc >= 5 ? number(argv[4], 0, 100000000) : 0;
    char letter = argc == 6 ? argv[5][0] : 'm';
    if (argc == 6 && (strlen(argv[5]) != 1 || letter == '\n')) usage();
    udp_burst(port, number(argv[3], 1, 1000000000), rate, letter);
  } else if (!strcmp(mode, "idle-clients") && argc == 4) {
    idle_clients(port, number(argv[3], 1, 1000000));
  } else {
    usage();
  }
  if (fflush(stdout) != 0 || ferror(stdout)) die("cannot write stdout");
  return 0;
}
