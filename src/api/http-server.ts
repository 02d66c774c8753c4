/**
 * The Node HTTP server behind `sievert serve`, with the timeouts that stop a slow or silent
 * client from holding a connection for ever:
 * - headersTimeout: the request line and headers must arrive within it (slow-header attacks);
 * - requestTimeout: the whole request, body included, must arrive within it. It bounds a
 *   client dripping a body; it is long by default because a STOW-RS batch of up to 2 GiB is
 *   streamed through it (15 min ≈ 2.4 MB/s for 2 GiB);
 * - keepAliveTimeout: an idle kept-alive connection is closed after it.
 * Node checks the first two every `connectionsCheckingInterval`, set here to a quarter of the
 * headers timeout (at most 5 s) so a timeout fires close to when it is due.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";

export interface HttpTimeouts {
  headersTimeoutMs: number;
  /** 0 disables it (Node's own meaning). */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 30_000, requestTimeoutMs: 900_000, keepAliveTimeoutMs: 5_000 };

export interface HttpServerOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  hostname: string;
  port: number;
  timeouts?: Partial<HttpTimeouts>;
}

export function startHttpServer(options: HttpServerOptions, onListening?: (info: AddressInfo) => void): ServerType {
  const t = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  const server = serve(
    {
      fetch: options.fetch,
      hostname: options.hostname,
      port: options.port,
      serverOptions: {
        headersTimeout: t.headersTimeoutMs,
        requestTimeout: t.requestTimeoutMs,
        connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(t.headersTimeoutMs / 4))),
      },
    },
    onListening,
  );
  (server as Server).keepAliveTimeout = t.keepAliveTimeoutMs;
  return server;
}
