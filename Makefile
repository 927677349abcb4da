# Kube Diagnoser: build, test, image, deploy. Docs: docs/install.md
VERSION ?= 0.1.0
IMAGE ?= kdiag:$(VERSION)
MVN ?= mvn -B
KUBECTL ?= kubectl
# docker where its engine answers, else podman; either builds the Containerfile
ENGINE ?= $(shell docker version >/dev/null 2>&1 && echo docker || { command -v podman >/dev/null 2>&1 && echo podman || echo docker; })
# the folder of the runnable jar, as the Containerfile names it
APP_DIR := $(shell sed -n 's/^ARG APP_DIR=\([^ ]*\).*/\1/p' Containerfile)
# empty: no py-spy in the image (it comes from PyPI); e.g. PY_SPY_VERSION=0.4.1 to install it
PY_SPY_VERSION ?=

.PHONY: build test image deploy

## build: compile and package every module, skipping the tests (./kdiag runs from all-in-one/target)
build:
	$(MVN) -DskipTests package

## test: unit tests, integration tests (in-JVM Kafka broker) and the manifest checks
test:
	$(MVN) verify

## image: the one image of every component, from the jars Maven built (make build first)
image:
	@ls $(APP_DIR)/*.jar >/dev/null 2>&1 || { echo "no jar in $(APP_DIR): run 'make build' first" >&2; exit 1; }
	$(ENGINE) build -f Containerfile --build-arg PY_SPY_VERSION=$(PY_SPY_VERSION) -t $(IMAGE) .

## deploy: Kube Diagnoser with a Strimzi-run Kafka (Strimzi's operator installed first: docs/install.md)
deploy:
	$(KUBECTL) apply --server-side -k deploy/overlays/strimzi
