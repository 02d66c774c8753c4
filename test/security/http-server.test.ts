/**
 * The HTTP server's timeouts (src/api/http-server.ts), set short here: a client that never
 * finishes its headers, or drips a body, is answered 408 and disconnected; an idle kept-alive
 * connection is closed; a client that sends promptly is served, STOW-RS included.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import type { ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { startHttpServer } from "../../src/api/http-server.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const HEADERS_MS = 600;
const REQUEST_MS = 2_000;
const KEEPALIVE_MS = 400;

let opened: OpenedDatabase;
let server: ServerType;
let port: number;

beforeAll(async () => {
  opened = await openTestDatabase();
  const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 4 * 1024 * 1024 });
  server = await new Promise<ServerType>((resolve) => {
    const s = startHttpServer(
      { fetch: app.fetch, hostname: "127.0.0.1", port: 0, timeouts: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: KEEPALIVE_MS } },
      () => resolve(s),
    );
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  (server as Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await opened.close();
});

interface Watched {
  socket: Socket;
  received: () => string;
  /** Milliseconds from connect to close. */
  closed: Promise<number>;
}

function open(): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1");
    const closed = new Promise<number>((done) => socket.on("close", () => done(Date.now() - started)));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => undefined); // a reset is one of the ways the server may end it
    socket.once("connect", () => resolve({ socket, received: () => Buffer.concat(chunks).toString("latin1"), closed }));
    socket.once("error", reject);
  });
}

describe("HTTP server timeouts", () => {
  it("a client that never finishes its headers gets 408 and is disconnected after the headers timeout", async () => {
    const c = await open();
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(ms).toBeLessThan(HEADERS_MS + 3_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("a client dripping a body is cut off at the request timeout, and the route never answers", async () => {
    const c = await open();
    c.socket.write("POST /api/v1/precheck HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
    const drip = setInterval(() => c.socket.writable && c.socket.write(" "), 150);
    const ms = await c.closed;
    clearInterval(drip);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(ms).toBeLessThan(REQUEST_MS + 3_000);
    expect(c.received()).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it("an idle kept-alive connection is closed after the keep-alive timeout", async () => {
    const c = await open();
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const ms = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(ms).toBeLessThan(KEEPALIVE_MS + 3_000);
  });

  it("a prompt client is served, STOW-RS included", async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const object = readFileSync(join(import.meta.dirname, "../../sample-rdsr/RPA/DX/5.dcm"));
    const boundary = "b-timeouts";
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), object, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const res = await fetch(`http://127.0.0.1:${port}/dicomweb/studies?trust=RPA`, {
      method: "POST",
      headers: { "content-type": `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: "application/dicom+json" },
      body,
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, { Value?: unknown[] }>;
    expect(json["00081199"]?.Value).toHaveLength(1);
  });
});

describe("timeout and body-limit configuration", () => {
  it("defaults: headers 30 s, request 15 min, keep-alive 5 s, JSON bodies 1 MiB; a headers timeout longer than the request timeout is refused", () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ headersTimeoutMs: 30_000, requestTimeoutMs: 900_000, keepAliveTimeoutMs: 5_000 });
    expect(c.maxJsonBytes).toBe(1024 * 1024);
    expect(loadConfig({ SIEVERT_HTTP_REQUEST_TIMEOUT_MS: "0", SIEVERT_HTTP_HEADERS_TIMEOUT_MS: "60000" }).http.requestTimeoutMs).toBe(0);
    expect(() => loadConfig({ SIEVERT_HTTP_HEADERS_TIMEOUT_MS: "60000", SIEVERT_HTTP_REQUEST_TIMEOUT_MS: "1000" })).toThrow(ConfigError);
    expect(() => loadConfig({ SIEVERT_MAX_JSON_BYTES: "-1" })).toThrow(ConfigError);
  });
});
