"""What the gateway touches: the store's collections and the event log, typed models in and out."""
