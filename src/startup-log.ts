// Holds the log lines written while the service starts, so that a start that fails prints only its
// one line on stderr (no "API_KEYS is unset" or "SMS backend ready" line before it on stdout).
// Once the service listens, or when the start takes longer than HOLD_MS (so a slow start still
// shows its progress), the held lines are written in order and later lines pass straight through.
import type { DestinationStream } from 'pino';

/** How long lines are held at most while the service starts. */
export const HOLD_MS = 5_000;

export class StartupLog implements DestinationStream {
  readonly #destination: DestinationStream;
  #held: string[] | undefined = [];
  readonly #timer: NodeJS.Timeout;

  constructor(destination: DestinationStream, holdMs = HOLD_MS) {
    this.#destination = destination;
    this.#timer = setTimeout(() => this.release(), holdMs);
    this.#timer.unref();
  }

  write(line: string): void {
    if (this.#held) this.#held.push(line);
    else this.#destination.write(line);
  }

  /** Writes the held lines and lets every later line through. */
  release(): void {
    clearTimeout(this.#timer);
    const held = this.#held;
    this.#held = undefined;
    for (const line of held ?? []) this.#destination.write(line);
  }

  /** Forgets the held lines: the start failed, and its one line says why. */
  discard(): void {
    if (this.#held) this.#held.length = 0;
  }
}
