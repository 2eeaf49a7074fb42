// The Prometheus endpoint: GET /metrics on its own port, nothing else. Bounded like the RPC
// server (connections, timeouts), and stopped with its connections, so a scraper's keep-alive
// socket cannot hold the process open.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HostPort } from '../config/index.js';
import type { MetricsServer } from './interface.js';
import { MetricsError, type MetricsLogger } from './options.js';

/** A few scrapers at most are expected; Node closes connections beyond this at once. */
const MAX_CONNECTIONS = 32;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface MetricsHttpModules {
  readonly scrape: () => Promise<string>;
  readonly contentType: string;
  readonly logger: MetricsLogger;
}

export class MetricsHttpServer implements MetricsServer {
  private http: Server | undefined;

  constructor(
    private readonly listen: HostPort,
    private readonly modules: MetricsHttpModules,
  ) {}

  async start(): Promise<void> {
    if (this.http) return;
    const http = createServer((req, res) => this.handle(req, res));
    http.maxConnections = MAX_CONNECTIONS;
    http.headersTimeout = HEADERS_TIMEOUT_MS;
    http.requestTimeout = REQUEST_TIMEOUT_MS;
    const { host, port } = this.listen;
    await new Promise<void>((resolve, reject) => {
      http.once('error', (e) => reject(new MetricsError(`cannot serve metrics on ${host}:${port}: ${e.message}`, { host, port })));
      // host "" = every interface, as CometBFT's ":26660"
      if (host === '') http.listen(port, resolve);
      else http.listen(port, host, resolve);
    });
    http.removeAllListeners('error');
    http.on('error', (e) => this.modules.logger.warn({ err: e.message }, 'metrics server error'));
    this.http = http;
    const a = this.address();
    this.modules.logger.info({ laddr: a ? `${a.host}:${a.port}` : undefined }, 'metrics server listening');
  }

  async stop(): Promise<void> {
    const http = this.http;
    if (!http) return;
    this.http = undefined;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections(); // idle keep-alive sockets would otherwise delay close()
    await closed;
  }

  address(): { host: string; port: number } | undefined {
    const a = this.http?.address();
    if (!a || typeof a === 'string') return undefined;
    return { host: a.address, port: a.port };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') return reply(res, 404, 'not found: metrics are served under /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'method not allowed\n');
    }
    this.modules.scrape().then(
      (body) => {
        if (res.destroyed) return;
        res.writeHead(200, { 'Content-Type': this.modules.contentType, 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        this.modules.logger.warn({ err: (e as Error).message }, 'metrics scrape failed');
        reply(res, 500, 'metrics collection failed\n');
      },
    );
  }
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
