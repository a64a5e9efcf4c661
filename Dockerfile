# Sluice worker and CLI in one image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/sluice-worker ./worker && \
    CGO_ENABLED=0 go build -trimpath -o /out/sluice ./starter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sluice-worker /out/sluice /usr/local/bin/
WORKDIR /project
ENTRYPOINT ["/usr/local/bin/sluice-worker"]
