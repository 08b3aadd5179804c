import { type DescMessage, type DescService, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { ApiError } from "./error.js";

/**
 * grpc-js's service definition for a protobuf-es service descriptor: every method unary, its
 * messages (de)serialised with @bufbuild/protobuf. `typeName` serves the same service under
 * another fully qualified name (pre-1.0 Contrast clients call `userapi.UserAPI`).
 */
export function grpcServiceDefinition(
  service: DescService,
  typeName: string = service.typeName,
): grpc.ServiceDefinition<grpc.UntypedServiceImplementation> {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") {
      throw new ApiError("API_METHOD_UNSUPPORTED", `${typeName}/${method.name} is not unary`, {
        kind: "internal",
        hint: "Only unary methods are served; the Contrast APIs have no streaming method.",
      });
    }
    definition[method.localName] = {
      path: `/${typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition;
}

function serializer<D extends DescMessage>(schema: D): (message: unknown) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message as MessageShape<D>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}
