import type { ChildProcess } from 'node:child_process';

/**
 * Sends `message` to a child over IPC and resolves with the first reply `matches` accepts;
 * rejects on timeout or when the child exits first.
 */
export function ipcRequest(
  child: ChildProcess,
  message: object,
  matches: (reply: unknown) => boolean,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: unknown) => {
      if (!matches(reply)) return;
      cleanup();
      resolve(reply);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`process ${child.pid} exited while waiting for a reply`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no reply from process ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}
