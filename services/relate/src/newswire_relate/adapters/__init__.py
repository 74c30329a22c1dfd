"""What relate touches in the world: its read-model collections."""
