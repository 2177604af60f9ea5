/** What the orchestrator asks a server process over IPC, and what the probe answers. */
export type ProbeRequest =
  | { probe: 'memory' }
  | { probe: 'cpu' }
  | { probe: 'loop-delay-reset' }
  | { probe: 'loop-delay' }
  /** CPU profile of a measured window (`--profile`), written as a .cpuprofile file. */
  | { probe: 'profile-start' }
  | { probe: 'profile-stop'; path: string };

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
