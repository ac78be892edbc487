import { readFileSync } from 'node:fs';
import type { Server, ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { grpcDescriptorSetPath } from '@flash-sale/contracts';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
export const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

export interface ReflectionOptions {
  /** Binary FileDescriptorSets (as `buf build` writes them) holding the services' files and all their imports. */
  descriptorSets: Uint8Array[];
  /** The services this server implements; health and reflection are listed besides them, and nothing else. */
  services: readonly string[];
}

/**
 * Adds server reflection (v1 and v1alpha) to `server`, answering from buf's descriptor sets as they are, so that
 * clients such as grpcurl find every import (well-known types, google.api annotations) under its own file name.
 *
 * @grpc/reflection does the protocol and the indexing. It is handed the files directly, not through proto-loader
 * (whose round trip through protobufjs renames map entries and merges files by package). It still re-encodes each
 * file with protobufjs, which drops custom options such as `google.api.http`; the answers are therefore given the
 * original bytes of each file back, by name, on their way out.
 */
export function addReflection(server: Pick<Server, 'addService'>, options: ReflectionOptions): void {
  const sets = [...options.descriptorSets, readFileSync(grpcDescriptorSetPath)];
  const files = new Map<string, Uint8Array>();
  for (const set of sets) {
    for (const file of fileBytes(set)) if (!files.has(nameOf(file))) files.set(nameOf(file), file);
  }
  const listed = [...options.services, HEALTH_SERVICE, ...REFLECTION_SERVICES];
  checkComplete(sets, listed);

  const definition = {
    files: { format: 'FileDescriptorSet', type: {}, fileDescriptorProtos: [...files.values()].map(Buffer.from) },
  } as unknown as PackageDefinition;
  new ReflectionService(definition, { services: listed }).addToServer({
    addService: (service, implementation: UntypedServiceImplementation) => {
      const handlers = Object.entries(implementation).map(([method, handler]) => [
        method,
        (call: ServerDuplexStream<unknown, ReflectionResponse>) => {
          const write = call.write.bind(call) as (...args: unknown[]) => boolean;
          call.write = (response: ReflectionResponse, ...rest: unknown[]) =>
            write(withOriginals(response, files), ...rest);
          (handler as (call: unknown) => void)(call);
        },
      ]);
      server.addService(service, Object.fromEntries(handlers) as UntypedServiceImplementation);
    },
  });
}

/** Every import resolves and every listed service is declared, or the server does not start. */
function checkComplete(sets: Uint8Array[], services: readonly string[]): void {
  const files = new Map(sets.flatMap((set) => fromBinary(FileDescriptorSetSchema, set).file.map((f) => [f.name, f])));
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: [...files.values()] }));
  const missing = services.filter((name) => !registry.getService(name));
  if (missing.length) throw new Error(`reflection: no descriptor declares ${missing.join(', ')}`);
}

interface ReflectionResponse {
  fileDescriptorResponse?: { fileDescriptorProto?: Uint8Array[] } | null;
}

function withOriginals(response: ReflectionResponse, files: ReadonlyMap<string, Uint8Array>): ReflectionResponse {
  const found = response.fileDescriptorResponse?.fileDescriptorProto;
  if (!found) return response;
  const fileDescriptorProto = found.map((file) => files.get(nameOf(file)) ?? file);
  return { ...response, fileDescriptorResponse: { ...response.fileDescriptorResponse, fileDescriptorProto } };
}

/** The encoded files of a FileDescriptorSet (`repeated FileDescriptorProto file = 1`), byte for byte. */
function fileBytes(set: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}

/** A FileDescriptorProto's `name` (field 1). */
function nameOf(file: Uint8Array): string {
  const reader = new BinaryReader(file);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) return reader.string();
    reader.skip(wireType);
  }
  return '';
}
