import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/** The `google.rpc.ErrorInfo` detail: a stable reason (our error code), a domain and string metadata. */
export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

/**
 * Encodes `google.rpc.Status { code, message, details: [Any(ErrorInfo)] }`, the payload of the standard
 * `grpc-status-details-bin` trailer that gRPC clients in every language know how to read.
 */
export function encodeStatusDetails(code: number, message: string, info: ErrorInfo): Buffer {
  const errorInfo = new BinaryWriter().uint32(10).string(info.reason).uint32(18).string(info.domain);
  for (const [key, value] of Object.entries(info.metadata)) {
    errorInfo.uint32(26).fork().uint32(10).string(key).uint32(18).string(value).join();
  }
  const any = new BinaryWriter().uint32(10).string(ERROR_INFO_TYPE_URL).uint32(18).bytes(errorInfo.finish());
  const status = new BinaryWriter().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any.finish());
  return Buffer.from(status.finish());
}

/** Reads the ErrorInfo back out of a `grpc-status-details-bin` payload; undefined when there is none. */
export function decodeErrorInfo(payload: Uint8Array): ErrorInfo | undefined {
  const status = new BinaryReader(payload);
  while (status.pos < status.len) {
    const [field, wireType] = status.tag();
    if (field !== 3) {
      status.skip(wireType);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let typeUrl = '';
    let value: Uint8Array | undefined;
    while (any.pos < any.len) {
      const [anyField, anyWire] = any.tag();
      if (anyField === 1) typeUrl = any.string();
      else if (anyField === 2) value = any.bytes();
      else any.skip(anyWire);
    }
    if (typeUrl === ERROR_INFO_TYPE_URL && value) return readErrorInfo(value);
  }
  return undefined;
}

function readErrorInfo(bytes: Uint8Array): ErrorInfo {
  const reader = new BinaryReader(bytes);
  const info: ErrorInfo = { reason: '', domain: '', metadata: {} };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) info.reason = reader.string();
    else if (field === 2) info.domain = reader.string();
    else if (field === 3) {
      const entry = new BinaryReader(reader.bytes());
      let key = '';
      let value = '';
      while (entry.pos < entry.len) {
        const [entryField, entryWire] = entry.tag();
        if (entryField === 1) key = entry.string();
        else if (entryField === 2) value = entry.string();
        else entry.skip(entryWire);
      }
      info.metadata[key] = value;
    } else reader.skip(wireType);
  }
  return info;
}
