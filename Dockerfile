# reclave as an OpenWhisk blackbox action image: reclave-enclave — the runtime image, the same
# server as `reclave serve` and nothing of the harness — speaks the action proxy protocol
# (POST /init, POST /run) on port 8080, as OpenWhisk's invoker expects of an action container.
# See docs/openwhisk.md.
#
#   docker build -t reclave/serve .
#   wsk action create counter --docker reclave/serve counter.zip   # a zip holding counter.wasm
#
# The mode and the enclave size are the command's arguments (CMD). OpenWhisk runs an image's
# default command, so another mode is another image:
#   printf 'FROM reclave/serve\nCMD ["--mode", "cold"]\n' | docker build -t reclave/serve:cold -
# SGX is simulated in this image (the embedded backend); nothing here needs /dev/sgx.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), so that the final image needs no C library, and reproducible: the same
# bytes as ./run.sh's bin/reclave-enclave for the same commit and Go toolchain.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o /out/reclave-enclave ./cmd/reclave-enclave

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/reclave-enclave /usr/local/bin/reclave-enclave
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/reclave-enclave", "--addr", ":8080"]
CMD ["--mode", "rewind"]
