import type { PostResult } from '../load/meal-poster';

/** W7 asks the baseline's instance A, over IPC, to complete meal logs at a steady rate. */
export interface ProduceRequest {
  query: 'produce';
  rate: number;
  durationMs: number;
  /** Users `userIdOf(0 … users - 1)`, taken round robin as the job feeder does. */
  users: number;
  /** The instance holding the users' other sessions: each group is published to it once. */
  peerPort: number;
}

export interface ProduceReply {
  produced: PostResult;
}

/** Answers the harness's produce requests over IPC (one at a time: W7 awaits each reply before the next). */
export function answerProduceRequests(produce: (request: ProduceRequest) => Promise<PostResult>) {
  if (!process.send) return;
  process.on('message', (message: Partial<ProduceRequest>) => {
    if (message?.query !== 'produce') return;
    void produce(message as ProduceRequest).then((produced) =>
      process.send!({ produced } satisfies ProduceReply),
    );
  });
}
