# coprove: one image for the node daemon and the client (`docker compose` runs both).
#   docker build -t coprove .                                  CPU engine (--cpu)
#   docker build -t coprove-gpu --build-arg EXTRAS=gpu .       adds CuPy for --gpu N
#                                                              (run with the NVIDIA runtime)
# Keys are never baked in: .dockerignore drops keys/ and secrets/, and compose hands
# each private key only to its own container.
FROM python:3.11-slim

ARG EXTRAS=""
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" && cd / && rm -rf /src

# Compose runs the containers as the user who made the keys (the key files are 0600),
# so nothing here depends on a user name; HOME only has to be writable for caches.
ENV HOME=/data PYTHONUNBUFFERED=1
WORKDIR /data
EXPOSE 7100
ENTRYPOINT ["coprove"]
CMD ["--help"]
