/**
 * In-process stand-ins for the seed's workloads: the Istio bookinfo services and Cilium's echo
 * servers. The echo page follows the shape of the guide's echo server output.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An echo server like the guide's: hostname, pod information, server values, request information, headers. */
export function echoServer(hostname: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const lines = [
      '',
      `Hostname: ${hostname}`,
      '',
      'Pod Information:',
      `\tnode name:\tin-process`,
      `\tpod name:\t${hostname}-demo`,
      `\tpod namespace:\tdefault`,
      `\tpod IP:\t127.0.0.1`,
      '',
      'Server values:',
      '\tserver_version=nginx: 1.12.2 - lua: 10010',
      '',
      'Request Information:',
      `\tclient_address=${req.socket?.remoteAddress ?? ''}`,
      `\tmethod=${req.method}`,
      `\treal path=${req.url}`,
      `\tquery=${url.search.slice(1)}`,
      `\trequest_version=${req.httpVersion}`,
      '\trequest_scheme=http',
      `\trequest_uri=http://${req.headers.host ?? ''}${req.url}`,
      '',
      'Request Headers:',
      ...Object.entries(req.headers).map(([k, v]) => `\t${k}=${Array.isArray(v) ? v.join(',') : v}`),
      '',
      'Request Body:',
      '\t-no body in request-',
      '',
    ];
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(lines.join('\n'));
  };
}

/** The bookinfo details service: a book's details as JSON. */
export function detailsService(req: IncomingMessage, res: ServerResponse) {
  const id = Number((req.url ?? '').split('/')[2] ?? 0) || 0;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890' }));
}

/** The bookinfo product page: a small HTML page. */
export function productPage(_req: IncomingMessage, res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<!DOCTYPE html>\n<html>\n<head><title>Simple Bookstore App</title></head>\n<body>\n<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>\n<table><tr><td>name</td><td>http://details:9080</td></tr></table>\n</body>\n</html>\n');
}
