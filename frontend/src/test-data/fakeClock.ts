/** A clock and timers that move only when a test says so. */
export class FakeClock {
  timers: { at: number; callback: () => void; id: number }[] = [];
  clock = 0;
  nextId = 0;
  delays: number[] = [];

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.nextId;
    this.delays.push(ms);
    this.timers.push({ at: this.clock + ms, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  now(): number {
    return this.clock;
  }

  newId(): string {
    return `id-${++this.nextId}`;
  }

  /** Move time on, running every timer that falls due, in order. */
  advance(ms: number): void {
    this.clock += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.clock).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.callback();
    }
  }
}
