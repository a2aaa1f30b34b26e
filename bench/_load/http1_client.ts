/**
 * A minimal HTTP/1.1 keep-alive client over a raw TCP socket, for the soak test and `bench:instr`:
 * it sends `GET` requests one after another on the same socket and can disconnect in the middle of
 * a request, exactly like a browser tab that is closed. Only what the benchmark servers answer is
 * parsed: a status line, headers and a `content-length` or chunked body (without trailers).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADER_END = [13, 10, 13, 10];

function indexOfHeaderEnd(buffer: Uint8Array): number {
  outer: for (let i = 0; i + 3 < buffer.length; i++) {
    for (let j = 0; j < 4; j++) if (buffer[i + j] !== HEADER_END[j]) continue outer;
    return i;
  }
  return -1;
}

function indexOfLineEnd(buffer: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10) return i;
  }
  return -1;
}

/** One response: its status and body text. */
export interface Http1Response {
  status: number;
  body: string;
}

/** One keep-alive connection to 127.0.0.1:`port`, reopened lazily after a disconnect. */
export class Http1Connection {
  readonly port: number;
  /** How many TCP connections this object has opened. */
  opened = 0;
  #conn: Deno.TcpConn | null = null;
  #buffer: Uint8Array = new Uint8Array(0);
  #chunk: Uint8Array = new Uint8Array(16 * 1024);

  constructor(port: number) {
    this.port = port;
  }

  /** Sends `GET path` and reads the whole response; fails after `timeoutMs`. */
  async get(path: string, timeoutMs: number): Promise<Http1Response> {
    const conn = await this.#open();
    const timer = setTimeout(() => this.close(), timeoutMs);
    try {
      await this.#write(conn, path);
      return await this.#readResponse(conn);
    } catch (error) {
      this.close();
      throw new Error(`GET ${path} failed`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `GET path`, waits `afterMs`, then destroys the socket before the response arrives. */
  async getThenDisconnect(path: string, afterMs: number): Promise<void> {
    const conn = await this.#open();
    await this.#write(conn, path);
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    this.close();
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#conn !== null) {
      try {
        this.#conn.close();
      } catch {
        // Already closed by the peer.
      }
      this.#conn = null;
      this.#buffer = new Uint8Array(0);
    }
  }

  async #open(): Promise<Deno.TcpConn> {
    if (this.#conn === null) {
      this.#conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
      this.#conn.setNoDelay(true);
      this.opened++;
    }
    return this.#conn;
  }

  async #write(conn: Deno.TcpConn, path: string): Promise<void> {
    let bytes = encoder.encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n\r\n`);
    while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
  }

  async #fill(conn: Deno.TcpConn): Promise<void> {
    const n = await conn.read(this.#chunk);
    if (n === null) throw new Error("connection closed by the server");
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(this.#chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
  }

  async #readResponse(conn: Deno.TcpConn): Promise<Http1Response> {
    let headerEnd: number;
    while ((headerEnd = indexOfHeaderEnd(this.#buffer)) < 0) await this.#fill(conn);
    const head = decoder.decode(this.#buffer.subarray(0, headerEnd));
    const [statusLine = "", ...headerLines] = head.split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let body: string;
    if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
      body = await this.#readChunked(conn, headerEnd + 4);
    } else {
      const length = Number(headers.get("content-length"));
      if (!Number.isInteger(length)) {
        throw new Error(`response without content-length: ${statusLine}`);
      }
      const total = headerEnd + 4 + length;
      while (this.#buffer.length < total) await this.#fill(conn);
      body = decoder.decode(this.#buffer.subarray(headerEnd + 4, total));
      this.#buffer = this.#buffer.slice(total);
    }
    if (headers.get("connection")?.toLowerCase() === "close") this.close();
    return { status, body };
  }

  /** A chunked body from `offset` on (its last chunk without trailers), consumed from the buffer. */
  async #readChunked(conn: Deno.TcpConn, offset: number): Promise<string> {
    let body = "";
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = indexOfLineEnd(this.#buffer, offset)) < 0) await this.#fill(conn);
      const size = parseInt(decoder.decode(this.#buffer.subarray(offset, lineEnd)), 16);
      if (!Number.isInteger(size)) throw new Error("malformed chunk size");
      offset = lineEnd + 2;
      while (this.#buffer.length < offset + size + 2) await this.#fill(conn);
      body += decoder.decode(this.#buffer.subarray(offset, offset + size));
      offset += size + 2;
      if (size === 0) break;
    }
    this.#buffer = this.#buffer.slice(offset);
    return body;
  }
}
