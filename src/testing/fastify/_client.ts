// HTTP/1.1 and HTTP/2 (cleartext) clients on 127.0.0.1 that can leave in the
// middle of a request: HTTP/1.1 destroys the connection, HTTP/2 resets the
// stream (RST_STREAM, CANCEL) and then closes the session.
import http from "node:http";
import http2 from "node:http2";

/** What to send. */
export interface ClientRequest {
  port: number;
  http2: boolean;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

/** A response that arrived in full (the client did not leave before it). */
export interface ClientResponse {
  status: number;
  body: string;
}

/** A request in flight. */
export interface LeavingClient {
  /** Resolves with the whole response; rejects when the request failed before the client left. Never settles once it left. */
  readonly response: Promise<ClientResponse>;
  /** Leaves now (idempotent). */
  leave(): void;
  /** Releases the connection (the HTTP/2 session). Idempotent. */
  close(): void;
}

/** Sends `spec` and returns the request in flight. */
export function send(spec: ClientRequest): LeavingClient {
  return spec.http2 ? sendHttp2(spec) : sendHttp1(spec);
}

function sendHttp1(spec: ClientRequest): LeavingClient {
  let left = false;
  const req = http.request({
    host: "127.0.0.1",
    port: spec.port,
    method: spec.method,
    path: spec.url,
    headers: spec.headers,
    agent: false,
  });
  const response = new Promise<ClientResponse>((resolve, reject) => {
    const failed = (error: Error) => {
      if (!left) reject(error);
    };
    req.on("error", failed);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => left || resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", failed);
    });
  });
  req.end(spec.body);
  return {
    response,
    leave() {
      left = true;
      req.destroy();
    },
    close() {
      req.destroy();
    },
  };
}

function sendHttp2(spec: ClientRequest): LeavingClient {
  let left = false;
  const session = http2.connect(`http://127.0.0.1:${spec.port}`);
  const stream = session.request(
    { ":method": spec.method, ":path": spec.url, ...spec.headers },
    { endStream: spec.body === undefined },
  );
  const response = new Promise<ClientResponse>((resolve, reject) => {
    const failed = (error: Error) => {
      if (!left) reject(error);
    };
    session.on("error", failed);
    stream.on("error", failed);
    let status = 0;
    let body = "";
    stream.on("response", (headers) => (status = Number(headers[":status"] ?? 0)));
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (body += chunk));
    // A reset stream may still end: that is the client leaving, not a response.
    stream.on("end", () => left || resolve({ status, body }));
  });
  if (spec.body !== undefined) stream.end(spec.body);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    session.close();
  };
  return {
    response,
    leave() {
      if (left) return;
      left = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    },
    close,
  };
}
