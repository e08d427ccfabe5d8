/**
 * The smallest servable Gateway as YAML: `gw`, any class, one HTTP listener on port 80. Tests
 * append their routes after it (`${HTTP_GATEWAY}---\n...`), so the prelude has one home.
 */
export const HTTP_GATEWAY = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: x
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`;

/** `HTTP_GATEWAY` plus one HTTPRoute `r` attached to it, with the given `rules:` items (YAML, indented two spaces). */
export function httpRouteYaml(rules: string): string {
  return `${HTTP_GATEWAY}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  parentRefs: [{ name: gw }]
  rules:
${rules}
`;
}
