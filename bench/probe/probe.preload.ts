/**
 * Loaded with `node --expose-gc --require` into every server under test (MealPulse and the
 * references), so the measurement code is the same for all of them and the product carries no
 * benchmark-only routes. Answers ProbeRequests on the IPC channel the harness opened.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type {
  CpuReading,
  GcPause,
  LoopDelayReading,
  MemoryReading,
  ProbeReply,
  ProbeRequest,
} from './probe-messages';

const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the probe needs node --expose-gc');
  // Twice: the first pass may only queue finalizers (WeakMap entries of closed sockets).
  gc();
  gc();
}

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics()
    .filter(
      (space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space',
    )
    .reduce((sum, space) => sum + space.physical_space_size, 0);
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

let gcPauses: GcPause[] = [];
/** Only while asked for: observing every collection costs a little on each. */
let gcObserver: PerformanceObserver | null = null;

function startGcPauses(): null {
  gcPauses = [];
  gcObserver?.disconnect();
  gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? -1;
      gcPauses.push({
        at: performance.timeOrigin + entry.startTime,
        ms: entry.duration,
        kind: GC_KINDS[kind] ?? String(kind),
      });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  return null;
}

function takeGcPauses(): GcPause[] {
  gcObserver?.disconnect();
  gcObserver = null;
  const taken = gcPauses;
  gcPauses = [];
  return taken;
}

let profiler: Session | null = null;

function post(method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) =>
    profiler!.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

async function startProfile(): Promise<null> {
  profiler = new Session();
  profiler.connect();
  await post('Profiler.enable');
  await post('Profiler.start');
  return null;
}

async function stopProfile(path: string): Promise<string> {
  const { profile } = (await post('Profiler.stop')) as { profile: object };
  profiler!.disconnect();
  profiler = null;
  writeFileSync(path, JSON.stringify(profile));
  return path;
}

function answer(request: ProbeRequest): unknown {
  switch (request.probe) {
    case 'memory': {
      forceGc();
      const usage = process.memoryUsage();
      return {
        rssBytes: usage.rss,
        heapUsedBytes: usage.heapUsed,
        heapTotalBytes: usage.heapTotal,
        externalBytes: usage.external,
        arrayBuffersBytes: usage.arrayBuffers,
        youngGenerationBytes: youngGenerationBytes(),
      } satisfies MemoryReading;
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return { cpuMicros: user + system } satisfies CpuReading;
    }
    case 'loop-delay-reset':
      loopDelay.reset();
      return null;
    case 'loop-delay':
      return {
        maxMs: loopDelay.max / 1e6,
        p99Ms: loopDelay.percentile(99) / 1e6,
      } satisfies LoopDelayReading;
    case 'profile-start':
      return startProfile();
    case 'profile-stop':
      return stopProfile(request.path);
    case 'gc-start':
      return startGcPauses();
    case 'gc-pauses':
      return takeGcPauses();
  }
}

if (process.send) {
  process.on('message', (request: ProbeRequest) => {
    if (typeof request?.probe !== 'string') return;
    void Promise.resolve()
      .then(() => answer(request))
      .then(
        (value) => process.send!({ probe: request.probe, value } satisfies ProbeReply),
        (error: unknown) =>
          process.send!({
            probe: request.probe,
            value: null,
            error: String(error),
          } satisfies ProbeReply),
      );
  });
  // The channel must not keep a server alive that is shutting down.
  process.channel?.unref();
}
