/** A local webhook endpoint for tests: answers 200 to every request and records its body. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class WebhookReceiver {
  readonly bodies: string[] = [];
  private server: Server | undefined;
  url = '';

  /** `encoding`: how bodies are read ('latin1' keeps every byte, for searching raw payloads). */
  constructor(
    private readonly urlPath = '/hook',
    private readonly encoding: BufferEncoding = 'utf8',
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString(this.encoding)));
      req.on('end', () => {
        this.bodies.push(body);
        res.writeHead(200).end('ok');
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${this.urlPath}`;
  }

  stop(): Promise<void> {
    const server = this.server;
    return server ? new Promise((r) => server.close(() => r())) : Promise.resolve();
  }
}
