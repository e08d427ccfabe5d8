/**
 * gateway-api-router: Kubernetes Gateway API routing inside a Node.js process.
 * Every public name is listed here; anything else is internal.
 */
export { createGateway, DEFAULT_CONTROLLER_NAME, SUPPORTED_FEATURES } from './gateway/create.js';
export type { GatewayOptions, GatewayRouter, InjectedRequest } from './gateway/create.js';
export type { CandidateExplanation, Explanation, RoutingOptions } from './gateway/route.js';
export type { ExtensionAnswer, ExtensionContext, ExtensionFilter } from './filters/apply.js';
export type { PrecedenceKey } from './ir/precedence.js';

export { loadManifests } from './resources/load.js';
export type { LoadOptions, LoadResult, ManifestFile, ManifestInput, ManifestLimits, Manifests, Resource } from './resources/load.js';

export { ErrorCodes, GatewayConfigError, GatewayError, formatIssue, isGatewayError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { IssueCodes } from './types.js';
export type {
  BackendTarget,
  Decision,
  ForwardDecision,
  ForwardedRequest,
  HeaderMap,
  HeaderOps,
  Issue,
  IssueCode,
  ListenerRef,
  MirrorTarget,
  RedirectDecision,
  RespondDecision,
  RespondReason,
  RouteRef,
  RouteRequest,
  Severity,
} from './types.js';

export type { Condition, GatewayClassStatus, GatewayStatus, ListenerSetStatus, ListenerStatus, RouteParentStatus, RouteStatusObject, StatusList, StatusObject } from './model/status.js';

export { GatewayClassSchema, GatewaySchema, ListenerSetSchema, NamespaceSchema, ReferenceGrantSchema, SecretSchema, ServiceSchema } from './resources/schemas-gateway.js';
export type { GatewayClass, Gateway, Listener, ListenerSet, NamespaceObject, ReferenceGrant, Secret, Service } from './resources/schemas-gateway.js';
export { GRPCRouteSchema, HTTPRouteSchema, TLSRouteSchema } from './resources/schemas-route.js';
export type { GRPCRoute, HTTPBackendRef, HTTPRoute, HTTPRouteFilter, HTTPRouteInput, HTTPRouteMatch, HTTPRouteRule, TLSRoute } from './resources/schemas-route.js';
