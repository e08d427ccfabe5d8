// gRPC through a GRPCRoute: the gateway serves h2c on node:http2 and proxies calls over HTTP/2
// to the backends (appProtocol kubernetes.io/h2c). The service is defined with @grpc/grpc-js's
// generic definitions (JSON messages here, to need no .proto file).
import { createServer } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { createHandler } from 'gateway-api-router/node';

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) };
const Greeter = {
  SayHello: { path: '/demo.Greeter/SayHello', requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize },
};

// Two versions of the backend, each a real gRPC server on 127.0.0.1.
async function greeter(version: string): Promise<string> {
  const server = new grpc.Server();
  server.addService(Greeter, { SayHello: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { message: `hello ${call.request.name} from ${version}` }) });
  const port = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
  return `http://127.0.0.1:${port}`;
}

// Calls carrying `version: canary` go to v2; every other call to Greeter is split 90/10.
const manifests = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: grpc-gateway }
spec:
  gatewayClassName: router
  listeners:
  - { name: h2c, port: 80, protocol: HTTP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: greeter }
spec:
  parentRefs: [{ name: grpc-gateway }]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{ method: { service: demo.Greeter }, headers: [{ name: version, value: canary }] }]
    backendRefs: [{ name: greeter-v2, port: 50051 }]
  - matches: [{ method: { service: demo.Greeter } }]
    backendRefs:
    - { name: greeter-v1, port: 50051, weight: 90 }
    - { name: greeter-v2, port: 50051, weight: 10 }
---
apiVersion: v1
kind: Service
metadata: { name: greeter-v1 }
spec: { ports: [{ port: 50051, appProtocol: kubernetes.io/h2c }] }
---
apiVersion: v1
kind: Service
metadata: { name: greeter-v2 }
spec: { ports: [{ port: 50051, appProtocol: kubernetes.io/h2c }] }
`;

const handler = createHandler({
  manifests,
  backends: { 'greeter-v1:50051': await greeter('v1'), 'greeter-v2:50051': await greeter('v2') },
});
const gateway = createServer(handler); // h2c: HTTP/2 with prior knowledge, as gRPC clients speak it
await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
const address = `127.0.0.1:${(gateway.address() as { port: number }).port}`;

const Client = grpc.makeGenericClientConstructor(Greeter, 'Greeter');
const client = new Client(address, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.com' });
const call = (headers: Record<string, string>) =>
  new Promise<string>((resolve) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    (client as unknown as Record<string, Function>).SayHello({ name: 'grpc' }, md, (err: grpc.ServiceError | null, reply: { message: string }) => resolve(err ? `error ${grpc.status[err.code]}` : reply.message));
  });

console.log(await call({ version: 'canary' })); // header match: always v2
const unknown = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.com' });
unknown.makeUnaryRequest('/demo.Other/Nope', json.serialize, json.deserialize, {}, (err) => {
  console.log(`no route: ${err ? grpc.status[err.code] : 'OK'}`); // the gateway answers grpc-status 12
  process.exit(0);
});
