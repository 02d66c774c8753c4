/**
 * The TCP sockets of postgres.js connections (its `socket` option), so that the messages of a
 * pipelined transaction can leave in one write.
 *
 * postgres.js writes each query to its socket as soon as it is 1 KB or more, and smaller ones
 * (BEGIN, COMMIT) at the end of the event-loop turn (setImmediate). A group of k store statements
 * (ingest/group-commit.ts) was therefore k + 1 socket writes, and on loopback every write is a
 * system call that also runs the receiving side's TCP path and wakes the server process: it cost
 * more CPU per object than building the statement. `gatherWrites(fn)` corks every connection
 * socket that the queries issued by `fn` write to and uncorks it once the writes postgres.js
 * deferred to the same turn have been made, so the server gets BEGIN, the statements and COMMIT in one segment train
 * (one writev). Nothing else changes: the bytes and their order are postgres.js's own.
 *
 * The socket is connected here the way postgres.js connects its own (host and port, or the
 * Unix socket path; several hosts are tried in turn on each new connection). With TLS,
 * postgres.js wraps this socket and writes to the TLS socket instead: writes then are not
 * gathered (same result, one write per query as before).
 */
import net from "node:net";

/** The parts of postgres.js's parsed options the socket needs. */
interface PgSocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

const WRITABLE_HIGH_WATER_MARK = 4 << 20;

/** Sockets corked by the current `gatherWrites` call (null outside one). */
let gathering: Set<net.Socket> | null = null;

/** postgres.js's `socket` option: a new connection socket whose writes `gatherWrites` can hold. */
export function pgSocketFactory(): (options: PgSocketOptions) => net.Socket {
  let next = 0;
  return (options) => {
    // A corked socket buffers the whole transaction (at most group-commit's maxBatch statements of
    // tens of KB); under the default 16 KB mark postgres.js would take write()'s false for
    // back-pressure and stop pipelining after the first statement.
    const socket = new net.Socket({ writableHighWaterMark: WRITABLE_HIGH_WATER_MARK } as net.SocketConstructorOpts); // a Duplex option, not in the type
    if (options.path) {
      socket.connect(options.path);
    } else {
      const i = next++ % Math.max(1, options.host.length);
      socket.connect(options.port[i] ?? options.port[0] ?? 5432, options.host[i] ?? "localhost");
    }
    // After connect(): net.Socket's connect() puts back the prototype's write().
    const write = socket.write;
    socket.write = function (this: net.Socket, ...args: unknown[]): boolean {
      if (gathering !== null && !gathering.has(this)) {
        this.cork();
        gathering.add(this);
      }
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof socket.write;
    return socket;
  };
}

/** `{ socket }` for postgres.js's options (its type declarations do not list `socket`). */
export function pgSocketOption(): object {
  return { socket: pgSocketFactory() };
}

/**
 * Runs `fn`, which issues queries (postgres.js sends a query from a microtask queued when it is
 * issued): what they write to connection sockets, and what postgres.js defers to the end of the
 * event-loop turn (queries under 1 KB), is sent in one write per socket. Best effort: should the
 * driver write later than that, those writes simply go out on their own, as they would anyway.
 */
export function gatherWrites<T>(fn: () => T): T {
  if (gathering !== null) return fn();
  const corked = new Set<net.Socket>();
  gathering = corked;
  try {
    return fn();
  } finally {
    // Microtasks run in the order queued: this one runs after those fn queued, i.e. after
    // postgres.js has written (or queued its end-of-turn flush for) every query of fn. The
    // immediate queued here then runs after that flush.
    queueMicrotask(() => {
      if (gathering === corked) gathering = null;
      if (corked.size > 0) setImmediate(() => corked.forEach((s) => s.uncork()));
    });
  }
}
