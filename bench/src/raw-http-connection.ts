import net from "node:net";

/** One HTTP/1.1 answer as read off the socket. */
export interface RawAnswer {
  readonly status: number;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/**
 * A keep-alive HTTP/1.1 connection on a raw socket, one request at a time:
 * the bench's senders use it instead of `fetch`, whose per-request cost
 * (~0.3–0.5 ms of CPU) would make the sender, not the server, the limit at a
 * few thousand requests per second on two shared cores. Answers must carry
 * `content-length` (the demo's and the reference's do).
 */
export class RawHttpConnection {
  readonly #socket: net.Socket;
  readonly #connected: Promise<void>;
  #pending: Buffer = Buffer.alloc(0);
  #waiting: { resolve(answer: RawAnswer): void; reject(error: Error): void } | undefined;
  #failure: Error | undefined;

  constructor(host: string, port: number) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#connected = new Promise((resolve, reject) => {
      this.#socket.once("connect", () => resolve());
      this.#socket.once("error", reject);
    });
    this.#socket.on("error", (error) => this.#fail(error));
    this.#socket.on("close", () => this.#fail(new Error("the connection closed")));
    this.#socket.on("data", (chunk: Buffer) => this.#onData(chunk));
  }

  /** Sends one complete request (head and body) and resolves with its answer. */
  async request(bytes: Buffer): Promise<RawAnswer> {
    await this.#connected;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#waiting !== undefined) throw new Error("one request at a time per connection");
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(bytes);
    });
  }

  /** Resolves once the socket is connected; rejects if it could not connect. */
  get connected(): Promise<void> {
    return this.#connected;
  }

  /** False once the socket failed or closed (a server closes a keep-alive connection left idle). */
  get usable(): boolean {
    return this.#failure === undefined;
  }

  close(): void {
    this.#socket.end();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  #onData(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const headerEnd = this.#pending.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#pending.subarray(0, headerEnd).toString("latin1");
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.#fail(new Error(`an answer without content-length: ${head.slice(0, 200)}`));
      this.#socket.destroy();
      return;
    }
    const end = headerEnd + 4 + Number(length[1]);
    if (this.#pending.length < end) return;
    const answer = { status: Number(head.slice(9, 12)), body: this.#pending.subarray(headerEnd + 4, end) };
    this.#pending = this.#pending.subarray(end);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(answer);
  }
}

/** The bytes of a `POST` with a JSON body. */
export function jsonPostRequest(
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
): Buffer {
  const lines = [
    `POST ${path} HTTP/1.1`,
    `host: ${host}:${port}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n${body}`);
}
