# Kube Diagnoser: build, test, image, deploy. Docs: docs/install.md
VERSION ?= 0.1.0
IMAGE ?= kdiag:$(VERSION)
MVN ?= mvn -B
KUBECTL ?= kubectl

.PHONY: build test image deploy

## build: compile and package every module, skipping the tests (./kdiag runs from all-in-one/target)
build:
	$(MVN) -DskipTests package

## test: unit tests, integration tests (in-JVM Kafka broker) and the manifest checks
test:
	$(MVN) verify

## image: the one image of every component (needs a Docker engine)
image:
	docker build -t $(IMAGE) .

## deploy: Kube Diagnoser with a Strimzi-run Kafka (Strimzi's operator installed first: docs/install.md)
deploy:
	$(KUBECTL) apply --server-side -k deploy/overlays/strimzi
