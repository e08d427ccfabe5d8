// Status accessors shared by the model tests: read one object's status out of gw.status, with
// errors that say what was there instead.
import { expect } from 'vitest';
import type { Condition, GatewayRouter, GatewayStatus, ListenerStatus, RouteParentStatus } from '../../src/index.js';

export function routeParents(gw: GatewayRouter, name: string, namespace = 'default'): RouteParentStatus[] {
  const s = gw.statusOf('HTTPRoute', name, namespace);
  if (s?.kind !== 'HTTPRoute') throw new Error(`no HTTPRoute status for ${namespace}/${name}`);
  return s.status.parents;
}

export function onlyParent(gw: GatewayRouter, name: string, namespace = 'default'): RouteParentStatus {
  const parents = routeParents(gw, name, namespace);
  expect(parents).toHaveLength(1);
  return parents[0]!;
}

export function cond(conditions: readonly Condition[], type: string): Condition {
  const c = conditions.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition; have: ${conditions.map((x) => `${x.type}=${x.status}/${x.reason}`).join(', ')}`);
  return c;
}

export const accepted = (p: RouteParentStatus): Condition => cond(p.conditions, 'Accepted');

export function gatewayStatus(gw: GatewayRouter, name = 'gw', namespace = 'default'): GatewayStatus {
  const s = gw.statusOf('Gateway', name, namespace);
  if (s?.kind !== 'Gateway') throw new Error(`no Gateway status for ${namespace}/${name}`);
  return s.status;
}

export function listenerStatus(gw: GatewayRouter, listener: string, gwName = 'gw', namespace = 'default'): ListenerStatus {
  const l = gatewayStatus(gw, gwName, namespace).listeners.find((x) => x.name === listener);
  if (!l) throw new Error(`no status for listener ${listener}`);
  return l;
}
