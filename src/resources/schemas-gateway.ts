/**
 * GatewayClass, Gateway, ListenerSet and ReferenceGrant (gateway.networking.k8s.io), and the core v1 kinds
 * the library reads: Service, Namespace and Secret.
 * Facts from `apis/v1/{gatewayclass,gateway,listenerset,referencegrant}_types.go` and the CRDs;
 * the spec digest sections 1.2, 1.3, 1.7, 1.8 and 1.9 summarise them.
 */
import { z } from 'zod';
import { refinement } from './validate/refinement.js';
import {
  AnyStatus,
  GatewayGroup,
  Group,
  Hostname,
  Kind,
  LabelSelector,
  Namespace,
  ObjectName,
  Patterns,
  PortNumber,
  PreciseHostname,
  SectionName,
  metadata,
  str,
} from './schemas-shared.js';

/** Adds a CEL-style rule violation at `path`, naming the rule. */
export function violate(ctx: z.RefinementCtx, message: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { rule: message } });
}

// ---------------------------------------------------------------------------------------------
// GatewayClass

export const GatewayClassSpecSchema = z.strictObject({
  controllerName: str(1, 253, Patterns.controllerName, 'GatewayController (domain/path)'),
  description: z.string().max(64).optional(),
  parametersRef: z
    .strictObject({
      group: Group,
      kind: Kind,
      name: str(1, 253),
      namespace: Namespace.optional(),
    })
    .optional(),
});

export const GatewayClassSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('GatewayClass'),
  metadata: metadata(),
  spec: GatewayClassSpecSchema,
  status: AnyStatus,
});
export type GatewayClass = z.infer<typeof GatewayClassSchema>;

// ---------------------------------------------------------------------------------------------
// Gateway

const SecretObjectReference = z.strictObject({
  group: Group.default(''),
  kind: Kind.default('Secret'),
  name: ObjectName,
  namespace: Namespace.optional(),
});

const CACertificateRef = z.strictObject({
  group: Group,
  kind: Kind,
  name: ObjectName,
  namespace: Namespace.optional(),
});

const FrontendTLSValidation = z.strictObject({
  caCertificateRefs: z.array(CACertificateRef).min(1).max(16),
  mode: z.enum(['AllowValidOnly', 'AllowInsecureFallback']).default('AllowValidOnly'),
});

const ListenerTLSConfig = z
  .strictObject({
    mode: z.enum(['Terminate', 'Passthrough']).default('Terminate'),
    certificateRefs: z.array(SecretObjectReference).max(64).optional(),
    options: z
      .record(z.string(), z.string().max(4096))
      .refine((o) => Object.keys(o).length <= 16, { message: 'Must have at most 16 entries', params: { code: 'GW_MANIFEST_LIMIT' } })
      .optional(),
  })
  .check(refinement((tls, ctx) => {
    if (tls.mode === 'Terminate' && (tls.certificateRefs ?? []).length === 0 && Object.keys(tls.options ?? {}).length === 0) {
      violate(ctx, 'certificateRefs or options must be specified when mode is Terminate');
    }
  }));

const RouteGroupKind = z.strictObject({
  group: Group.default(GatewayGroup),
  kind: Kind,
});

const AllowedRoutes = z.strictObject({
  namespaces: z
    .strictObject({
      from: z.enum(['All', 'Selector', 'Same']).default('Same'),
      selector: LabelSelector.optional(),
    })
    .prefault({}),
  kinds: z.array(RouteGroupKind).max(8).optional(),
});

export const ListenerSchema = z.strictObject({
  name: SectionName,
  hostname: Hostname.optional(),
  port: PortNumber,
  protocol: str(1, 255, Patterns.protocol, 'ProtocolType'),
  tls: ListenerTLSConfig.optional(),
  allowedRoutes: AllowedRoutes.prefault({}),
});

const GatewayAddress = z
  .strictObject({
    // The CRD's pattern, unanchored alternatives included: Hostname, IPAddress, NamedAddress or domain/Type.
    type: str(1, 253, /^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/, 'AddressType').default('IPAddress'),
    value: z.string().max(253).optional(),
  })
  .check(refinement((a, ctx) => {
    if (a.type === 'Hostname' && a.value !== undefined && !Patterns.hostname.test(a.value)) {
      violate(ctx, 'Hostname value must be empty or contain only valid characters', ['value']);
    }
    if (a.type === 'IPAddress' && a.value !== undefined && !isIP(a.value)) {
      violate(ctx, 'IPAddress value must be an IPv4 or IPv6 address', ['value']);
    }
  }));

function isIP(s: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

/**
 * Listener-list CEL rules, the same in the Gateway and ListenerSet CRDs (spec digest section 1.3,
 * rules 1 to 6; `apis/v1/listenerset_types.go` repeats them, message for message).
 */
function checkListeners(listeners: readonly Listener[], ctx: z.RefinementCtx): void {
  listeners.forEach((l, i) => {
    const at = ['listeners', i];
    if (['HTTP', 'TCP', 'UDP'].includes(l.protocol) && l.tls !== undefined) {
      violate(ctx, "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", [...at, 'tls']);
    }
    if (l.protocol === 'HTTPS' && l.tls !== undefined && l.tls.mode !== 'Terminate') {
      violate(ctx, 'tls mode must be Terminate for protocol HTTPS', [...at, 'tls', 'mode']);
    }
    // Defaults apply before CEL runs, so a present `tls` always has a mode: the rule
    // "tls mode must be set for protocol TLS" therefore requires `tls` itself.
    if (l.protocol === 'TLS' && l.tls === undefined) {
      violate(ctx, 'tls mode must be set for protocol TLS', [...at, 'tls']);
    }
    if (['TCP', 'UDP'].includes(l.protocol) && l.hostname !== undefined) {
      violate(ctx, "hostname must not be specified for protocols ['TCP', 'UDP']", [...at, 'hostname']);
    }
    const sameName = listeners.findIndex((o) => o.name === l.name);
    if (sameName !== i) violate(ctx, 'Listener name must be unique within the Gateway', [...at, 'name']);
    const sameCombo = listeners.findIndex((o) => o.port === l.port && o.protocol === l.protocol && o.hostname === l.hostname);
    if (sameCombo !== i) violate(ctx, 'Combination of port, protocol and hostname must be unique for each listener', at);
  });
}

export const GatewaySpecSchema = z
  .strictObject({
    gatewayClassName: str(1, 253),
    listeners: z.array(ListenerSchema).min(1).max(64),
    addresses: z.array(GatewayAddress).max(16).optional(),
    infrastructure: z
      .strictObject({
        labels: z
          .record(z.string().regex(Patterns.labelKey, 'must be a valid label key'), z.string().max(63).regex(Patterns.labelValue, 'must be a valid label value'))
          .refine((o) => Object.keys(o).length <= 8, { message: 'Must have at most 8 entries', params: { code: 'GW_MANIFEST_LIMIT' } })
          .optional(),
        annotations: z
          .record(z.string().regex(Patterns.labelKey, 'must be a valid annotation key'), z.string().max(4096))
          .refine((o) => Object.keys(o).length <= 16, { message: 'Must have at most 16 entries', params: { code: 'GW_MANIFEST_LIMIT' } })
          .optional(),
        parametersRef: z.strictObject({ group: Group, kind: Kind, name: str(1, 253) }).optional(),
      })
      .optional(),
    allowedListeners: z
      .strictObject({
        namespaces: z
          .strictObject({
            from: z.enum(['All', 'Selector', 'Same', 'None']).default('None'),
            selector: LabelSelector.optional(),
          })
          .prefault({}),
      })
      .optional(),
    tls: z
      .strictObject({
        backend: z.strictObject({ clientCertificateRef: SecretObjectReference.optional() }).optional(),
        frontend: z
          .strictObject({
            default: z.strictObject({ validation: FrontendTLSValidation.optional() }),
            perPort: z
              .array(z.strictObject({ port: PortNumber, tls: z.strictObject({ validation: FrontendTLSValidation.optional() }) }))
              .max(64)
              .optional(),
          })
          .optional(),
      })
      .optional(),
    defaultScope: z.enum(['All', 'None']).optional(),
  })
  .check(refinement((spec, ctx) => {
    checkListeners(spec.listeners, ctx);
    const perPort = spec.tls?.frontend?.perPort ?? [];
    perPort.forEach((p, i) => {
      if (perPort.findIndex((o) => o.port === p.port) !== i) {
        violate(ctx, 'Port for TLS configuration must be unique within the Gateway', ['tls', 'frontend', 'perPort', i, 'port']);
      }
    });
    const addresses = spec.addresses ?? [];
    addresses.forEach((a, i) => {
      if ((a.type === 'IPAddress' || a.type === 'Hostname') && a.value !== undefined) {
        if (addresses.findIndex((o) => o.type === a.type && o.value === a.value) !== i) {
          violate(ctx, `${a.type} values must be unique`, ['addresses', i, 'value']);
        }
      }
    });
  }));

export const GatewaySchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('Gateway'),
  metadata: metadata(),
  spec: GatewaySpecSchema,
  status: AnyStatus,
});
export type Gateway = z.infer<typeof GatewaySchema>;
export type Listener = z.infer<typeof ListenerSchema>;

// ---------------------------------------------------------------------------------------------
// ListenerSet (standard since v1.5; `apis/v1/listenerset_types.go`, GEP-1713, digest section 1.8)

/** ParentGatewayReference: group and kind default to the Gateway's; namespace to the ListenerSet's. */
const ParentGatewayReference = z.strictObject({
  group: Group.default(GatewayGroup),
  kind: Kind.default('Gateway'),
  name: ObjectName,
  namespace: Namespace.optional(),
});

export const ListenerSetSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('ListenerSet'),
  metadata: metadata(),
  spec: z
    .strictObject({
      parentRef: ParentGatewayReference,
      // ListenerEntry has the fields of a Gateway Listener, with the same defaults.
      listeners: z.array(ListenerSchema).min(1).max(64),
    })
    .check(refinement((spec, ctx) => checkListeners(spec.listeners, ctx))),
  status: AnyStatus,
});
export type ListenerSet = z.infer<typeof ListenerSetSchema>;

// ---------------------------------------------------------------------------------------------
// ReferenceGrant

export const ReferenceGrantSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('ReferenceGrant'),
  metadata: metadata(),
  spec: z.strictObject({
    from: z.array(z.strictObject({ group: Group, kind: Kind, namespace: Namespace })).min(1).max(16),
    to: z.array(z.strictObject({ group: Group, kind: Kind, name: str(1, 253).optional() })).min(1).max(16),
  }),
});
export type ReferenceGrant = z.infer<typeof ReferenceGrantSchema>;

// ---------------------------------------------------------------------------------------------
// Core v1: Service, Namespace, Secret (only the fields a Service manifest can carry)

const ServicePort = z.strictObject({
  name: z.string().max(63).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  appProtocol: z.string().optional(),
  port: PortNumber,
  targetPort: z.union([PortNumber, z.string().min(1).max(15)]).optional(),
  nodePort: PortNumber.optional(),
});

export const ServiceSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('Service'),
  metadata: metadata(ObjectName.max(63).regex(Patterns.dns1035Label, 'must be a DNS-1035 label (lowercase, starting with a letter)')),
  spec: z
    .strictObject({
      ports: z.array(ServicePort).optional(),
      selector: z.record(z.string(), z.string()).optional(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).optional(),
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
      externalIPs: z.array(z.string()).optional(),
      sessionAffinity: z.enum(['None', 'ClientIP']).optional(),
      sessionAffinityConfig: z.unknown().optional(),
      loadBalancerIP: z.string().optional(),
      loadBalancerSourceRanges: z.array(z.string()).optional(),
      loadBalancerClass: z.string().optional(),
      externalName: z.string().optional(),
      externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
      internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
      healthCheckNodePort: PortNumber.optional(),
      publishNotReadyAddresses: z.boolean().optional(),
      ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
      ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
      allocateLoadBalancerNodePorts: z.boolean().optional(),
      trafficDistribution: z.string().optional(),
    })
    .prefault({}),
  status: AnyStatus,
});
export type Service = z.infer<typeof ServiceSchema>;

export const NamespaceSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('Namespace'),
  metadata: metadata(ObjectName.max(63).regex(Patterns.dnsLabel, 'must be a DNS-1123 label')),
  spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: AnyStatus,
});
export type NamespaceObject = z.infer<typeof NamespaceSchema>;

export const SecretSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('Secret'),
  metadata: metadata(),
  type: z.string().default('Opaque'),
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  immutable: z.boolean().optional(),
});
export type Secret = z.infer<typeof SecretSchema>;

/** ConfigMaps are read for CA bundles (`ca.crt`: frontend client-certificate validation, BackendTLSPolicy). */
export const ConfigMapSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('ConfigMap'),
  metadata: metadata(),
  data: z.record(z.string(), z.string()).optional(),
  binaryData: z.record(z.string(), z.string()).optional(),
  immutable: z.boolean().optional(),
});
export type ConfigMap = z.infer<typeof ConfigMapSchema>;

// ---------------------------------------------------------------------------------------------
// BackendTLSPolicy (standard, `apis/v1/backendtlspolicy_types.go`)

const SubjectAltName = z
  .strictObject({
    type: z.enum(['Hostname', 'URI']),
    hostname: Hostname.optional(),
    uri: z.string().min(1).max(253).optional(),
  })
  .check(refinement((s, ctx) => {
    if (s.type === 'Hostname' && !s.hostname) violate(ctx, 'SubjectAltName element must contain Hostname, if Type is set to Hostname');
    if (s.type !== 'Hostname' && s.hostname) violate(ctx, 'SubjectAltName element must not contain Hostname, if Type is not set to Hostname');
    if (s.type === 'URI' && !s.uri) violate(ctx, 'SubjectAltName element must contain URI, if Type is set to URI');
    if (s.type !== 'URI' && s.uri) violate(ctx, 'SubjectAltName element must not contain URI, if Type is not set to URI');
  }));

export const BackendTLSPolicySchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('BackendTLSPolicy'),
  metadata: metadata(),
  spec: z.strictObject({
    targetRefs: z.array(z.strictObject({ group: Group, kind: Kind, name: ObjectName, sectionName: SectionName.optional() })).min(1).max(16),
    validation: z
      .strictObject({
        caCertificateRefs: z.array(z.strictObject({ group: Group, kind: Kind, name: ObjectName })).max(8).optional(),
        wellKnownCACertificates: z.enum(['System']).optional(),
        hostname: PreciseHostname,
        subjectAltNames: z.array(SubjectAltName).max(5).optional(),
      })
      .check(refinement((v, ctx) => {
        const refs = (v.caCertificateRefs ?? []).length > 0;
        if (refs && v.wellKnownCACertificates) violate(ctx, 'must not contain both CACertificateRefs and WellKnownCACertificates');
        if (!refs && !v.wellKnownCACertificates) violate(ctx, 'must specify either CACertificateRefs or WellKnownCACertificates');
      })),
    options: z.record(z.string(), z.string().max(4096)).optional(),
  }),
  status: AnyStatus,
});
export type BackendTLSPolicy = z.infer<typeof BackendTLSPolicySchema>;

