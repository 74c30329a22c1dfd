"""The gateway's rules and models: pure, no store, no Kafka, no HTTP."""
