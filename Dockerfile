# syntax=docker/dockerfile:1
# CareBridge gateway image: a static binary on a distroless base, run as a
# non-root user, with its SQLite database in /data.
#
#   docker build -t carebridge .
#   docker run -p 8080:8080 -v carebridge-data:/data carebridge
#   docker run -p 8080:8080 -e CAREBRIDGE_DB=postgres://... carebridge

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/carebridge ./cmd/carebridge \
 && mkdir -p /out/data

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
