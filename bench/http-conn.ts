// A lean keep-alive HTTP/1.1 connection for the closed-loop load: one request in flight, the
// response read by its Content-Length (the RPC server always sends one). node:http's client
// cost ~100 µs of the load generator's CPU per request, CPU the validators on the same two
// cores then lacked; this costs a fraction of that, so more of the machine measures the node.
import { connect, type Socket } from 'node:net';

export interface HttpReply {
  readonly status: number;
  readonly text: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export class HttpConn {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: HttpReply) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  private open(): Socket {
    const s = connect({ port: this.port, host: this.host, noDelay: true });
    s.on('data', (d: Buffer) => this.onData(d));
    const fail = (e: Error): void => {
      if (this.socket === s) this.socket = undefined;
      this.buf = Buffer.alloc(0);
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed')));
    this.socket = s;
    return s;
  }

  post(body: string, path = '/'): Promise<HttpReply> {
    if (this.waiting) return Promise.reject(new Error('a request is already in flight on this connection'));
    const s = this.socket ?? this.open();
    return new Promise<HttpReply>((resolve, reject) => {
      this.waiting = { resolve, reject };
      s.write(`POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      this.socket?.destroy(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    const text = this.buf.toString('utf8', end + 4, total);
    this.buf = this.buf.subarray(total);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ status, text });
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }
}
