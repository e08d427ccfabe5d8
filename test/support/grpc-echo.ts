// A gRPC echo service for the end-to-end tests, defined with @grpc/grpc-js's generic service
// definitions (no codegen): messages are JSON. Each server says which backend it is, like the
// conformance suite's echo-basic pods, and echoes the metadata it received.
import * as grpc from '@grpc/grpc-js';

export const SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

/** What every echo answers: who served the call, and what it received. */
export interface EchoReply {
  backend: string;
  namespace: string;
  /** `/{service}/{method}` as the backend saw it. */
  method: string;
  /** The request metadata the backend received (lower-case names, values joined with ","). */
  headers: Record<string, string>;
  /** The message echoed back. */
  message?: string;
}

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};

function unary(method: string): grpc.MethodDefinition<unknown, unknown> {
  return { path: `/${SERVICE}/${method}`, requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize };
}

/** Echo, EchoTwo, EchoThree (unary, as upstream's GrpcEcho), plus a server stream and a bidi stream. */
export const echoDefinition = {
  Echo: unary('Echo'),
  EchoTwo: unary('EchoTwo'),
  EchoThree: unary('EchoThree'),
  Slow: unary('Slow'),
  Count: { ...unary('Count'), responseStream: true },
  Chat: { ...unary('Chat'), requestStream: true, responseStream: true },
} satisfies grpc.ServiceDefinition;

/** The generic client constructor for the echo service. */
export const EchoClient = grpc.makeGenericClientConstructor(echoDefinition, 'GrpcEcho');

function headersOf(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = String(v);
  for (const k of Object.keys(md.toJSON())) out[k] = md.get(k).map(String).join(',');
  return out;
}

export interface EchoServer {
  name: string;
  /** `http://127.0.0.1:port`, or `https://127.0.0.1:port` for a TLS server. */
  url: string;
  /** The server names (SNI) TLS clients sent, in order (TLS servers only). */
  sni: string[];
  /** Calls served. */
  calls: number;
  close(): Promise<void>;
}

/**
 * Starts a gRPC echo server on 127.0.0.1:0 named `name`: insecure (h2c), or with TLS credentials
 * when `tls` gives a key pair (the SNI each client sends is recorded). Count streams back
 * `n` replies; Chat answers each message it gets; `EchoThree` is left unimplemented only when
 * `withEchoThree` is false (default true, as upstream's server implements it).
 */
export async function startEchoServer(name: string, namespace = 'gateway-conformance-infra', tls?: { cert: string; key: string }): Promise<EchoServer> {
  const server = new grpc.Server();
  const sni: string[] = [];
  let credentials = grpc.ServerCredentials.createInsecure();
  if (tls !== undefined) {
    credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false);
    // grpc-js builds its node:http2 server from these options: an SNICallback that keeps the
    // default context only records the name the client sent.
    Object.assign(credentials._getConstructorOptions() ?? {}, {
      SNICallback: (servername: string, cb: (err: Error | null) => void) => {
        sni.push(servername);
        cb(null);
      },
    });
  }
  const state = { calls: 0 };
  const reply = (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, message?: string): EchoReply => ({
    backend: name,
    namespace,
    method: (call as unknown as { getPath(): string }).getPath(),
    headers: headersOf(call.metadata),
    ...(message !== undefined ? { message } : {}),
  });
  const echo: grpc.handleUnaryCall<unknown, unknown> = (call, cb) => {
    state.calls++;
    cb(null, reply(call, (call.request as { message?: string })?.message));
  };
  server.addService(echoDefinition, {
    Echo: echo,
    EchoTwo: echo,
    EchoThree: echo,
    // Answers after 3 s: a timeout's target.
    Slow: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const t = setTimeout(() => cb(null, reply(call)), 3_000);
      call.on('cancelled', () => clearTimeout(t));
    },
    Count: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      state.calls++;
      const n = (call.request as { n?: number }).n ?? 3;
      for (let i = 0; i < n; i++) call.write(reply(call, String(i)));
      call.end();
    },
    Chat: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      state.calls++;
      call.on('data', (m: { message?: string }) => call.write(reply(call, `echo: ${m.message ?? ''}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    name,
    url: `${tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`,
    sni,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A client for the echo service through `address` (`host:port`), with `authority` as :authority. */
export function echoClient(address: string, authority?: string): grpc.Client & Record<string, Function> {
  return new EchoClient(address, grpc.credentials.createInsecure(), authority ? { 'grpc.default_authority': authority } : {}) as unknown as grpc.Client & Record<string, Function>;
}

/** One unary call: resolves with the reply, or the gRPC status code and details on failure. */
export function callUnary(client: grpc.Client & Record<string, Function>, method: string, headers: Record<string, string> = {}, message?: string): Promise<{ code: number; reply?: EchoReply; details?: string }> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return new Promise((resolve) => {
    client[method]!({ message }, md, { deadline: Date.now() + 20_000 }, (err: grpc.ServiceError | null, reply: EchoReply) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: 0, reply });
    });
  });
}

export { grpc };
