/** What the orchestrator asks a server process over IPC, and what the probe answers. */
export type ProbeRequest =
  | { probe: 'memory' }
  | { probe: 'cpu' }
  | { probe: 'loop-delay-reset' }
  | { probe: 'loop-delay' }
  /** CPU profile of a measured window (`--profile`), written as a .cpuprofile file. */
  | { probe: 'profile-start' }
  | { probe: 'profile-stop'; path: string }
  /** Records garbage-collection pauses from now on, until `gc-pauses` returns and forgets them. */
  | { probe: 'gc-start' }
  | { probe: 'gc-pauses' };

export interface MemoryReading {
  /** After a forced, full GC. */
  rssBytes: number;
  heapUsedBytes: number;
  /** What V8 holds for its heap, used or not: RSS that is heap without being live objects. */
  heapTotalBytes: number;
  /** Memory of C++ objects tied to JavaScript ones (Buffers among them). */
  externalBytes: number;
  arrayBuffersBytes: number;
  /**
   * What V8 holds for its young generation: it grows with the allocation rate and is part of
   * heapTotalBytes without holding anything after a full GC.
   */
  youngGenerationBytes: number;
}

export interface CpuReading {
  /** user + system CPU time of the whole process so far. */
  cpuMicros: number;
}

export interface LoopDelayReading {
  maxMs: number;
  p99Ms: number;
}

export type ProbeReply = { probe: ProbeRequest['probe']; value: unknown; error?: string };

/** One garbage-collection pause (a `gc` performance entry): the event loop stood still for it. */
export interface GcPause {
  /** When it started (epoch ms, the harness's clock). */
  at: number;
  ms: number;
  /** `minor` (scavenge), `major` (mark-compact), `incremental` (marking step), `weak` (callbacks). */
  kind: string;
}
