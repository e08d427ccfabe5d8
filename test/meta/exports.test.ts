// The public surface is deliberate: this snapshot changes only when src/index.ts does, and a
// change to it must come with docs/ and README updates.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

describe('public exports', () => {
  it('are exactly these runtime names', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "DEFAULT_CONTROLLER_NAME",
        "ErrorCodes",
        "GRPCRouteSchema",
        "GatewayClassSchema",
        "GatewayConfigError",
        "GatewayError",
        "GatewaySchema",
        "HTTPRouteSchema",
        "IssueCodes",
        "ListenerSetSchema",
        "NamespaceSchema",
        "ReferenceGrantSchema",
        "SUPPORTED_FEATURES",
        "SecretSchema",
        "ServiceSchema",
        "TLSRouteSchema",
        "createGateway",
        "formatIssue",
        "isGatewayError",
        "loadManifests",
      ]
    `);
  });
});

describe('gateway-api-router/node exports', () => {
  it('are exactly these runtime names', async () => {
    const node = await import('../../src/server/node-entry.js');
    expect(Object.keys(node).sort()).toEqual(['createHandler', 'listen', 'readManifestPath', 'toRouteRequest', 'watchManifests']);
  });
});
