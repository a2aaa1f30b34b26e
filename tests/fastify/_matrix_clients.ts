// The lifecycle matrix's clients over real sockets: HTTP/1.1 on a raw
// keep-alive socket (one request, or several pipelined in one write) and
// HTTP/2 cleartext through node:http2.
import http2 from "node:http2";
import net from "node:net";

/** How a client leaves: its socket, one HTTP/2 stream (reset), or its HTTP/2 session. */
export type Leave = "socket" | "stream" | "session";

/** A client connection with its request(s) sent. */
export interface MatrixClient {
  /** The response statuses received so far, in order. */
  statuses(): number[];
  /** Everything received so far (HTTP/1: the raw bytes; HTTP/2: the body). */
  text(): string;
  /** Whether the (last) response ended or the connection closed. */
  finished(): boolean;
  leave(how: Leave): void;
  /** Releases the connection (idempotent). */
  destroy(): void;
}

/** HTTP/1.1 GET requests written on one raw socket in one write (pipelined when several). */
export function h1Client(port: number, paths: readonly string[]): Promise<MatrixClient> {
  return new Promise((resolve, reject) => {
    let received = "";
    let closed = false;
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      socket.on("error", () => {}); // ECONNRESET after the server destroys it
      socket.write(
        paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(""),
      );
      resolve(client);
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("close", () => (closed = true));
    socket.once("error", reject);
    const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    const client: MatrixClient = {
      statuses,
      text: () => received,
      // Chunked responses (hijacked) end with a zero-length chunk.
      finished: () =>
        closed || (statuses().length >= paths.length &&
          (!/transfer-encoding: chunked/i.test(received) || received.endsWith("0\r\n\r\n"))),
      leave: () => void socket.destroy(),
      destroy: () => void socket.destroy(),
    };
  });
}

/** One HTTP/2 GET on a new session. */
export function h2Client(port: number, path: string): Promise<MatrixClient> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("error", reject);
    session.once("connect", () => {
      session.off("error", reject);
      session.on("error", () => {});
      resolve(client);
    });
    let status: number | undefined;
    let body = "";
    let ended = false;
    const stream = session.request({ ":path": path });
    stream.on("error", () => {}); // a reset stream or a destroyed session
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("end", () => (ended = true));
    stream.on("close", () => (ended = true));
    const client: MatrixClient = {
      statuses: () => (status === undefined ? [] : [status]),
      text: () => body,
      finished: () => ended,
      leave: (how) => {
        if (how === "session") session.destroy();
        else stream.close(http2.constants.NGHTTP2_CANCEL);
      },
      destroy: () => void session.destroy(),
    };
  });
}
