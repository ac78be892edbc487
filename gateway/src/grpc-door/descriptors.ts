import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/** Field numbers in descriptor.proto, as they appear in a SourceCodeInfo location's path. */
const FILE_SERVICE = 6;
const SERVICE_METHOD = 2;

/**
 * The descriptor set an outside client sees through the door: each service with only its public methods (services
 * left with none are dropped), so reflection describes what the door answers and no internal RPC. Messages, options
 * and imports stay as they are; the comments of the methods kept move with them.
 */
export function publicDescriptorSet(set: Uint8Array, isPublic: (rpc: string) => boolean): Uint8Array {
  const decoded = fromBinary(FileDescriptorSetSchema, set);
  for (const file of decoded.file) {
    // Old index -> new index, for services and, per old service index, for their methods.
    const services = new Map<number, number>();
    const methods = new Map<number, Map<number, number>>();
    const kept = file.service.filter((service, s) => {
      const kept = new Map<number, number>();
      service.method = service.method.filter((method, m) => {
        if (!isPublic(`${file.package}.${service.name}.${method.name}`)) return false;
        kept.set(m, kept.size);
        return true;
      });
      if (!service.method.length) return false;
      services.set(s, services.size);
      methods.set(s, kept);
      return true;
    });
    file.service = kept;
    const info = file.sourceCodeInfo;
    if (!info) continue;
    info.location = info.location.filter((location) => {
      const [field, s, member, m] = location.path;
      if (field !== FILE_SERVICE || s === undefined) return true;
      const service = services.get(s);
      if (service === undefined) return false;
      location.path[1] = service;
      if (member !== SERVICE_METHOD || m === undefined) return true;
      const method = methods.get(s)!.get(m);
      if (method === undefined) return false;
      location.path[3] = method;
      return true;
    });
  }
  return toBinary(FileDescriptorSetSchema, decoded);
}
