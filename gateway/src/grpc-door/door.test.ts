import { readFileSync } from 'node:fs';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ACCESS_POLICY_PATH } from '@flash-sale/config';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { encodeStatusDetails, loadAccessPolicy } from '@flash-sale/grpc-kit';
import { routeTable } from '../api/route-table';
import { httpProblem } from '../http/problem';
import { publicDescriptorSet } from './descriptors';
import { bytesOf, checkAgainstPolicy } from './door';
import { peerAddress } from './forward';
import { doorFailure } from './status';
import { doorCredentials } from './tls';

/** The leading comment of a method, from its file's SourceCodeInfo (path: service 6, index, method 2, index). */
function commentOf(method: DescMethod): string {
  const service = method.parent;
  const path = [6, service.file.services.indexOf(service), 2, service.methods.indexOf(method)].join();
  return service.file.proto.sourceCodeInfo?.location.find((l) => l.path.join() === path)?.leadingComments ?? '';
}

const routes = routeTable(meshHttpRules(descriptorSetPath));
const publicRpcs = new Set(routes.map((route) => route.spec.rpc));

describe('the door', () => {
  it('when the descriptors are cut to the public methods, then internal methods are gone and comments stay with theirs', () => {
    const full = readFileSync(descriptorSetPath);
    const set = publicDescriptorSet(full, (rpc) => publicRpcs.has(rpc));
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, set));
    const original = createFileRegistry(fromBinary(FileDescriptorSetSchema, full));
    const inventory = registry.getService('flashsale.inventory.v1.InventoryService')!;
    expect(inventory.methods.map((method) => method.name)).toEqual(['Reserve']);
    expect(commentOf(inventory.methods[0]!)).toContain('Reserves units for the calling buyer');
    const order = registry.getService('flashsale.order.v1.OrderService')!;
    expect(order.methods.map((method) => method.name).sort()).toEqual([
      'CancelOrder',
      'GetOrder',
      'GetSaleSummary',
      'ListOrders',
    ]);
    for (const rpc of publicRpcs) {
      const [service, method] = [rpc.slice(0, rpc.lastIndexOf('.')), rpc.slice(rpc.lastIndexOf('.') + 1)];
      const kept = registry.getService(service)!.methods.find((m) => m.name === method)!;
      const was = original.getService(service)!.methods.find((m) => m.name === method)!;
      expect(commentOf(kept)).toBe(commentOf(was));
    }
    // The messages of the internal methods may stay; the HTTP annotations do.
    expect(registry.getMessage('flashsale.inventory.v1.ReserveBatchRequest')).toBeDefined();
  });

  it("when the allow-list's public methods are the annotated ones, then the check passes, else it names each difference", () => {
    const policy = loadAccessPolicy(ACCESS_POLICY_PATH);
    expect(() => checkAgainstPolicy(policy, 'policy.yaml', publicRpcs)).not.toThrow();
    const inventory = policy.services['flashsale.inventory.v1.InventoryService']!;
    const changed = {
      ...policy,
      services: {
        ...policy.services,
        'flashsale.inventory.v1.InventoryService': {
          ...inventory,
          methods: { ...inventory.methods, Reserve: { callers: ['gateway' as const] }, ReserveBatch: { public: true } },
        },
      },
    };
    expect(() => checkAgainstPolicy(changed, 'policy.yaml', publicRpcs)).toThrow(
      /InventoryService\.Reserve has a google.api.http route but is not public[\s\S]*ReserveBatch is public but has no google.api.http route/,
    );
  });

  it('when a refusal is the gateway’s own, then its gRPC status follows its HTTP status and keeps its code', () => {
    expect(doorFailure(httpProblem(401, 'TOKEN_EXPIRED', 'token has expired'))).toEqual({
      code: status.UNAUTHENTICATED,
      message: 'token has expired',
      reason: 'TOKEN_EXPIRED',
      metadata: {},
    });
    expect(doorFailure(httpProblem(429, 'RATE_LIMITED', 'too many', {}, 2))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      metadata: { retry_after_seconds: '2' },
    });
    expect(doorFailure(new Error('boom'))).toMatchObject({ code: status.INTERNAL, reason: 'INTERNAL' });
  });

  it('when an upstream refuses, then its status, reason and metadata pass; when it fails, the client learns nothing of it', () => {
    const failed = (code: status, details: string, reason?: string): ServiceError => {
      const metadata = new Metadata();
      if (reason) {
        const info = { reason, domain: 'flashsale', metadata: { promotion_id: '7' } };
        metadata.set('grpc-status-details-bin', encodeStatusDetails(code, details, info));
      }
      return Object.assign(new Error(details), { code, details, metadata });
    };
    expect(doorFailure(failed(status.FAILED_PRECONDITION, 'the promotion is sold out', 'SOLD_OUT'))).toEqual({
      code: status.FAILED_PRECONDITION,
      message: 'the promotion is sold out',
      reason: 'SOLD_OUT',
      metadata: { promotion_id: '7' },
    });
    expect(doorFailure(failed(status.INTERNAL, 'database password wrong'))).toMatchObject({
      code: status.INTERNAL,
      reason: 'UPSTREAM_ERROR',
      message: expect.not.stringContaining('password'),
    });
  });

  it('when grpc-js names a peer, then the per-address limit counts its host', () => {
    expect(peerAddress('127.0.0.1:51234')).toBe('127.0.0.1');
    expect(peerAddress('[::1]:51234')).toBe('::1');
    expect(peerAddress('ipv4:10.0.0.7:443')).toBe('10.0.0.7');
  });

  it('when the certificate files are missing or do not match, then the gateway does not start and says where', () => {
    expect(() => doorCredentials('/nonexistent/front-door')).toThrow(
      /GRPC_DOOR_TLS_DIR: \/nonexistent\/front-door: .*ENOENT/,
    );
  });

  it('when the body limit is spelled as for HTTP, then the message limit is its bytes', () => {
    expect(bytesOf('16kb')).toBe(16_384);
    expect(bytesOf('2mb')).toBe(2_097_152);
    expect(() => bytesOf('lots')).toThrow();
  });
});
