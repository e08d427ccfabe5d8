import { loadManifests, createGateway } from './src/index.js';
const head = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  parentRefs: [{name: gw}]\n';
const tries: Record<string,string> = {
  circ: head + '  hostnames: &x [*x]\n',
  circmap: head + '  rules: &x\n  - matches: *x\n',
  circmap2: head + '  foo: &x {a: *x, b: null}\n',
};
for (const [k, text] of Object.entries(tries)) {
try { const r = loadManifests(text); console.log(k, r.issues.map(i => i.code + ' ' + i.message.slice(0,80))); } catch (e: any) { console.log('THREW', k, e.constructor.name, e.message.slice(0, 80), e.stack.split('\n').slice(1,5).join(' | ')); }
}
let threw = 0, fine = 0;
for (let n = 700; n < 1400; n += 7) {
  const text = 'a:\n  ' + '- '.repeat(n) + 'x';
  const t2 = head + '  hostnames:\n    ' + '['.repeat(n) + ']'.repeat(n);
  for (const t of [text, t2]) try { loadManifests(t); fine++ } catch (e: any) { threw++; if (threw < 3) console.log('THREW', n, e.constructor.name, e.stack.split('\n').slice(1,6).join(' | ')); }
}
console.log({threw, fine});
