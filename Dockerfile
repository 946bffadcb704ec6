# syntax=docker/dockerfile:1
# CareBridge gateway image: a static binary on a distroless base, run as a
# non-root user, with its SQLite database in /data.
#
#   docker build -t carebridge .
#   docker run -p 8080:8080 -v carebridge-data:/data carebridge
#   docker run -p 8080:8080 -e CAREBRIDGE_DB=postgres://... carebridge
#
# The conformance kit's image (target conformance) holds the kit alone, with
# its built-in suites; conformance/compose.yaml runs it against the gateway.
#
#   docker build --target conformance -t carebridge-conformance .
#   docker run --rm carebridge-conformance run --target https://... --token ...

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/ ./cmd/carebridge ./cmd/conformance \
 && mkdir -p /out/data /out/kit /out/reports

# The kit: /kit is where `conformance init` writes keys and configuration
# (compose mounts a volume there, which takes the directory's owner), and
# /reports where reports go, both writable by the nonroot user.
FROM gcr.io/distroless/static-debian12:nonroot AS conformance
COPY --from=build /out/conformance /conformance
COPY --from=build --chown=65532:65532 /out/kit /kit
COPY --from=build --chown=65532:65532 /out/reports /reports
USER 65532:65532
WORKDIR /kit
ENTRYPOINT ["/conformance"]
CMD ["run", "--help"]

FROM gcr.io/distroless/static-debian12:nonroot AS gateway
COPY --from=build /out/carebridge /carebridge
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV CAREBRIDGE_ADDR=0.0.0.0:8080 \
    CAREBRIDGE_DB=sqlite:/data/carebridge.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/carebridge", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/carebridge"]
CMD ["serve"]
