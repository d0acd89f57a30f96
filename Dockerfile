# msgit in an image: Debian 12 with the package .ci/package builds, run as a user of its own.
#
#   bash .ci/package && docker build -t msgit:0.1.0 .
#   docker run --rm -e MSGIT_TOKEN -v "$PWD:/work" -w /work msgit:0.1.0 clone ns/model
#
# Examples/Kubernetes runs this image. (It is not built where msgit is developed: no image registry.)
FROM debian:12-slim
COPY dist/msgit_*.deb /tmp/
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates /tmp/msgit_*.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/msgit_*.deb \
    && useradd --create-home --uid 10001 msgit
USER msgit
WORKDIR /home/msgit
ENTRYPOINT ["msgit"]
