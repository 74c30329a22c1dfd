#!/usr/bin/env bash
# Starts the broker with a server.properties file: kafka-server-start.sh FILE
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
export KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true}"
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
