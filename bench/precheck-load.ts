/**
 * Load generator of the precheck benchmark, run as its own process by bench/repeats.ts so that
 * the service's event loop serves requests only (a generator in the same process would share it).
 * Every request is POST /api/v1/precheck with the next body of the list given (different
 * patients and trusts), over keep-alive connections on loopback. Every latency is kept, so the
 * percentiles are exact, not histogram buckets.
 *
 * Input (JSON on stdin): { url, token, connections, seconds, bodies, arrivalsPerSecond? }; every
 * request carries `Authorization: Bearer <token>`, as a clinical system's would.
 * - Closed loop (no arrivalsPerSecond): autocannon; each connection sends its next request when
 *   the previous answer arrives, so `connections` requests are always in flight. Latency is from
 *   writing the request to the end of the answer.
 * - Open loop (arrivalsPerSecond): requests arrive at random (Poisson) times at that mean rate,
 *   whatever the answers' speed, over at most `connections` sockets, as many independent clients
 *   would send them. Latency is from the scheduled arrival to the end of the answer, so time spent
 *   waiting for a free socket counts (no coordinated omission). autocannon's own rate options are
 *   not used for this: they release every connection's quota at the same instant each second.
 * Output (stdout, one JSON line): requests, non-2xx, errors, requests per second, p50/p90/p99/max.
 */
import { Agent, request } from "node:http";
import autocannon from "autocannon";

interface LoadInput {
  url: string;
  token: string;
  connections: number;
  seconds: number;
  bodies: string[];
  arrivalsPerSecond?: number;
}

export interface LoadResult {
  mode: "closed loop" | "open loop";
  connections: number;
  arrivalsPerSecond: number | null;
  seconds: number;
  requests: number;
  non2xx: number;
  errors: number;
  requestsPerSecond: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

interface Tally {
  latencies: number[];
  non2xx: number;
  errors: number;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (v: number): number => Number(v.toFixed(2));

async function closedLoop(input: LoadInput): Promise<Tally> {
  let next = 0;
  const tally: Tally = { latencies: [], non2xx: 0, errors: 0 };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: input.url,
        connections: input.connections,
        duration: input.seconds,
        requests: [
          {
            method: "POST",
            path: "/api/v1/precheck",
            headers: { "content-type": "application/json", authorization: `Bearer ${input.token}` },
            setupRequest: (req) => ({ ...req, body: input.bodies[next++ % input.bodies.length]! }),
          },
        ],
      },
      (err: Error | null, r: autocannon.Result) => (err ? reject(err) : resolve(r)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) tally.latencies.push(responseTime);
      else tally.non2xx++;
    });
  });
  tally.errors = result.errors + result.timeouts;
  return tally;
}

async function openLoop(input: LoadInput, rate: number): Promise<Tally> {
  const { hostname, port } = new URL(input.url);
  const agent = new Agent({ keepAlive: true, maxSockets: input.connections });
  const tally: Tally = { latencies: [], non2xx: 0, errors: 0 };
  const inFlight = new Set<Promise<void>>();
  const send = (body: string, arrival: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request({ host: hostname, port, path: "/api/v1/precheck", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${input.token}` } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) tally.latencies.push(performance.now() - arrival);
          else tally.non2xx++;
          resolve();
        });
      });
      req.on("error", () => {
        tally.errors++;
        resolve();
      });
      req.end(body);
    });
  const start = performance.now();
  const end = start + input.seconds * 1000;
  let arrival = start;
  let i = 0;
  while (true) {
    arrival += -Math.log(1 - Math.random()) * (1000 / rate); // exponential gaps: Poisson arrivals
    if (arrival >= end) break;
    const wait = arrival - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = send(input.bodies[i++ % input.bodies.length]!, arrival);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return tally;
}

async function main(): Promise<void> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  const input = JSON.parse(text || "null") as LoadInput | null;
  if (!input || !input.bodies?.length) throw new Error("stdin must give url, connections, seconds and bodies as JSON");
  const rate = input.arrivalsPerSecond;
  const tally = rate ? await openLoop(input, rate) : await closedLoop(input);
  const lat = tally.latencies.sort((a, b) => a - b);
  const out: LoadResult = {
    mode: rate ? "open loop" : "closed loop",
    connections: input.connections,
    arrivalsPerSecond: rate ?? null,
    seconds: input.seconds,
    requests: lat.length + tally.non2xx,
    non2xx: tally.non2xx,
    errors: tally.errors,
    requestsPerSecond: Math.round(lat.length / input.seconds),
    p50_ms: round(pct(lat, 50)),
    p90_ms: round(pct(lat, 90)),
    p99_ms: round(pct(lat, 99)),
    max_ms: round(lat[lat.length - 1] ?? NaN),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
