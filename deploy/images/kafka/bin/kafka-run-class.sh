#!/usr/bin/env bash
# Runs a class from the broker's jars, heap and options from the environment as Kafka's own
# script reads them.
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1} ${KAFKA_OPTS:-} \
  "-Dlog4j2.configurationFile=${KAFKA_LOG4J_CONFIG:-/opt/kafka/config/tools-log4j2.yaml}" \
  -cp '/opt/kafka/libs/*' "$@"
