# syntax=docker/dockerfile:1
# Build: docker build -t llmedge .
# Run:   docker run -p 4000:4000 -v $PWD/config.yaml:/etc/llmedge/config.yaml:ro llmedge
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
    -ldflags "-s -w -X github.com/llmedge/llmedge/server.Version=${VERSION}" \
    -o /out/llmedge . \
 && mkdir -p /out/etc/llmedge /out/var/lib/llmedge && cp config.yaml.example /out/etc/llmedge/config.yaml

# Static binary on a distroless base: no shell, no package manager, runs as
# the unprivileged "nonroot" user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/llmedge /usr/local/bin/llmedge
COPY --from=build /out/etc/llmedge /etc/llmedge
# The embedded key database (llmedge.db, when database_url is unset)
# lives in the working directory: a volume the non-root user can write.
COPY --from=build --chown=nonroot:nonroot /out/var/lib/llmedge /var/lib/llmedge
WORKDIR /var/lib/llmedge
VOLUME /var/lib/llmedge
USER nonroot:nonroot
EXPOSE 4000
# Mount your config over /etc/llmedge/config.yaml (the example is baked in).
ENTRYPOINT ["/usr/local/bin/llmedge"]
CMD ["serve", "--config", "/etc/llmedge/config.yaml", "--port", "4000"]
