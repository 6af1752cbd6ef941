# A small image that runs meshlint: `docker build -t meshlint .` then
# `docker run --rm -v "$PWD:/src" meshlint check .` (the working directory is /src).
# Pass the commit for `meshlint --version` when .git is not in the build context:
#   docker build --build-arg MESHLINT_BUILD_COMMIT="$(git rev-parse --short=12 HEAD)" \
#     --build-arg MESHLINT_BUILD_DATE="$(git log -1 --format=%cs)" -t meshlint .

FROM rust:1.88-slim-bookworm AS build
ARG MESHLINT_BUILD_COMMIT=unknown
ARG MESHLINT_BUILD_DATE=unknown
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY pre-commit pre-commit
COPY crates crates
COPY rules rules
RUN cargo build --release --locked -p meshlint-cli --bin meshlint \
    && strip target/release/meshlint

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /build/target/release/meshlint /usr/local/bin/meshlint
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/meshlint"]
CMD ["check", "."]
