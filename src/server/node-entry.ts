/**
 * The `gateway-api-router/node` entry: the node:http adapter (createHandler) and listen(),
 * which opens the Gateway's own ports. Names are listed one by one so that the entry's surface
 * is deliberate (test/meta/exports.test.ts snapshots it).
 */
export { createHandler, readManifestPath, toRouteRequest, watchManifests } from '../adapters/node.js';
export type { AdapterOptions, BackendHandler, BackendSpec, GatewayHandler, HandlerOptions, UpstreamOptions } from '../adapters/node.js';
export { listen } from './listen.js';
export type { ListenGatewayOptions, ListenOptions, ListeningGateway } from './listen.js';
export type { BackendTLS, Certificate, FrontendValidation, ServedListener, ServedTLSRoute, ServingPlan } from '../gateway/serving.js';
export type { StreamBackend } from './tls/tls-route.js';
