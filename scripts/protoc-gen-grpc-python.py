"""A protoc plugin that produces *_pb2_grpc.py with grpcio-tools' bundled generator.

buf runs protoc_builtin plugins only for the generators it knows (python, pyi, ...), and
grpc_python is not one of them; grpcio-tools ships that generator inside its protoc, not as a
protoc-gen-* executable. So buf.gen.yaml runs this file as a local plugin: it hands the request's
descriptors to grpcio-tools' protoc (--descriptor_set_in) and returns what --grpc_python_out wrote.
The output is the same bytes `python -m grpc_tools.protoc --grpc_python_out` produces.
"""

import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse()
    with tempfile.TemporaryDirectory(prefix="protoc-gen-grpc-python-") as work:
        descriptors = os.path.join(work, "descriptors.binpb")
        with open(descriptors, "wb") as f:
            f.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        out = os.path.join(work, "out")
        os.mkdir(out)
        target = f"{request.parameter}:{out}" if request.parameter else out
        args = ["grpc_tools.protoc", f"--descriptor_set_in={descriptors}", f"--grpc_python_out={target}"]
        code = protoc.main(args + list(request.file_to_generate))
        if code != 0:
            response.error = f"grpc_tools.protoc exited with {code}"
            return response
        for directory, _, names in sorted(os.walk(out)):
            for name in sorted(names):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as f:
                    response.file.add(name=os.path.relpath(path, out).replace(os.sep, "/"), content=f.read())
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
