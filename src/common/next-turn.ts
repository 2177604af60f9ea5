/**
 * Resolves in the check phase of this turn of the event loop, after the I/O callbacks already
 * due: long work that awaits it between slices lets sockets be read and written meanwhile.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
