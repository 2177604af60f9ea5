/**
 * Waits for `work`, but no longer than `ms`: true when it fulfilled in time, false when the
 * deadline came first (the work goes on, unawaited; a later failure of it is ignored). A failure
 * within the deadline is thrown.
 */
export async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
