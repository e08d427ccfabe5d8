/**
 * ReferenceGrants as one lookup (spec digest section 1.7). Part of the reference resolution
 * (model/references.ts).
 */
import type { ReferenceGrant } from '../../resources/schemas-gateway.js';

interface GrantFrom { group: string; kind: string; namespace: string }
interface GrantTo { group: string; kind: string; namespace: string; name: string }

/**
 * The ReferenceGrants as one lookup (spec digest section 1.7), so that each cross-namespace
 * reference costs a map probe instead of a scan of every grant. A grant allows every pairing of
 * one of its `from` entries with one of its `to` entries, so it is entered once per pairing (at
 * most 16 x 16, the CRD's limits): key target namespace, source group, kind and namespace,
 * target group and kind; value null when some grant names no object (every object of that kind),
 * else the names granted. Matching stays exact on every field; grants only add.
 */
export class GrantIndex {
  private readonly allowed = new Map<string, Set<string> | null>();

  constructor(grants: readonly ReferenceGrant[]) {
    for (const g of grants) {
      const ns = g.metadata.namespace!;
      for (const f of g.spec.from) {
        for (const t of g.spec.to) {
          const key = grantKey(ns, f.group, f.kind, f.namespace, t.group, t.kind);
          const names = this.allowed.get(key);
          if (names === null) continue;
          if (t.name === undefined) this.allowed.set(key, null);
          else if (names === undefined) this.allowed.set(key, new Set([t.name]));
          else names.add(t.name);
        }
      }
    }
  }

  /**
   * Whether a reference from an object of kind `from` to the object `to` is allowed: always
   * within one namespace; across namespaces only when a ReferenceGrant in the target namespace
   * names the source kind and namespace and the target kind (and name, if given).
   */
  allows(from: GrantFrom, to: GrantTo): boolean {
    if (from.namespace === to.namespace) return true;
    const names = this.allowed.get(grantKey(to.namespace, from.group, from.kind, from.namespace, to.group, to.kind));
    return names === null || (names !== undefined && names.has(to.name));
  }
}

/** Namespaces, groups and kinds never hold a newline (DNS names and CamelCase kinds), so keys cannot collide. */
function grantKey(toNamespace: string, fromGroup: string, fromKind: string, fromNamespace: string, toGroup: string, toKind: string): string {
  return `${toNamespace}\n${fromGroup}\n${fromKind}\n${fromNamespace}\n${toGroup}\n${toKind}`;
}
