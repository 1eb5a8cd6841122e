import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';

/**
 * The local runtime's stand-in for the public internet on port 80: on one loopback port, each
 * request goes to the web server of the local host that serves its Host (as DNS pointing a
 * domain at its server would), with the request's method, path, headers and body. Pebble
 * fetches HTTP-01 challenges through it, and anyone can curl a site by its domain.
 */
export function makeFrontDoor(options: {
  /** where the site serving a domain listens (`http://127.0.0.1:20123/`), if any site does */
  resolve: (domain: string) => Promise<string | undefined>;
  log: (line: string) => void;
}) {
  const answer = (response: ServerResponse, status: number, text: string) => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${text}\n`);
  };

  async function pass(incoming: IncomingMessage, response: ServerResponse) {
    const domain = String(incoming.headers.host ?? '')
      .replace(/:\d+$/, '')
      .toLowerCase();
    let target: string | undefined;
    try {
      target = domain ? await options.resolve(domain) : undefined;
    } catch (error) {
      options.log(`front door: ${domain}: ${(error as Error).message}`);
      answer(response, 502, `Could not look up ${domain}.`);
      return;
    }
    if (!target) {
      answer(response, 404, `No site on this runtime answers to ${domain || 'a request without a Host'}.`);
      return;
    }
    const url = new URL(target);
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (upstream) => {
        response.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(response);
      },
    );
    outgoing.on('error', (error) => {
      if (!response.headersSent) answer(response, 502, `${domain}: ${error.message}`);
      else response.destroy();
    });
    incoming.pipe(outgoing);
  }

  return {
    /** Serves on a server that already listens (its port was needed before anything started). */
    serve(server: Server) {
      server.on('request', (incoming: IncomingMessage, response: ServerResponse) => {
        void pass(incoming, response);
      });
    },
    create: () => createServer(),
  };
}
