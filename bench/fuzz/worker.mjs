// Fuzz worker thread: loads the TypeScript sources through tsx, then judges each input the
// main thread sends ({ id, bytes, name, rawTransferSyntax, fragSeed }) and answers with the
// verdict (and the DIMSE header walker's, when asked), the time taken and this thread's heap.
import { parentPort, workerData } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import { register } from "tsx/esm/api";

register();
const { judge, judgeWalker } = await import("./target.ts");

parentPort.on("message", (msg) => {
  const externalBefore = getHeapStatistics().external_memory;
  const started = process.hrtime.bigint();
  const verdict = judge(msg.bytes, msg.name, msg.rawTransferSyntax);
  const walker = workerData?.headerWalker ? judgeWalker(msg.bytes, msg.rawTransferSyntax, msg.fragSeed) : null;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const heap = getHeapStatistics();
  parentPort.postMessage({ id: msg.id, verdict, walker: walker ?? undefined, ms, heapUsedMb: heap.used_heap_size / 1048576, mallocedPeakMb: heap.peak_malloced_memory / 1048576, externalMb: heap.external_memory / 1048576, externalGrowthMb: (heap.external_memory - externalBefore) / 1048576 });
});
parentPort.postMessage({ ready: true });
