/** One line of progress on stderr, rewritten in place on a terminal and appended elsewhere (CI). */
export class Progress {
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  update(step: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0).padStart(4);
    const line = `[bench ${seconds}s] ${step}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
