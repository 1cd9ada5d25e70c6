"""The v2 API: events, event types and capabilities."""
