// The README's quick example; test/meta/readme.test.ts runs it and checks the README shows it verbatim.
import { readFileSync } from 'node:fs';
import { createGateway } from 'gateway-api-router';

const gw = createGateway({
  manifests: [readFileSync('examples/basic-http.yaml', 'utf8'), readFileSync('examples/bookinfo-services.yaml', 'utf8')],
});

const decision = gw.route({ method: 'GET', path: '/?great=example', headers: { magic: 'foo' } });
// { type: 'forward', route: { name: 'http-app-1', ... }, rule: { index: 1 }, backend: { name: 'productpage', port: 9080, ... }, ... }
console.log(decision.type, decision.type === 'forward' ? decision.backend.name : decision.status);

const why = gw.explain({ method: 'POST', path: '/?great=example', headers: { magic: 'foo' } });
console.log(why.decision.type === 'respond' ? why.decision.status : 200, why.candidates.map((c) => c.failed ?? c.outcome));

console.log(gw.statusOf('Gateway', 'my-gateway')?.status);
